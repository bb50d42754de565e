"""The layout form: parses input; the rules (name, Jinja2, content block) are the service's."""

from __future__ import annotations

from django import forms

from postino.forms import ServiceForm

STARTER_LAYOUT = """<!doctype html>
<html>
<body style="font-family: sans-serif; max-width: 600px; margin: 0 auto;">
  {% block content %}{% endblock %}
  <p style="color: #888; font-size: 12px;">
    <a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ webview_url }}">View online</a>
  </p>
</body>
</html>
"""


class LayoutForm(ServiceForm):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))
    html = forms.CharField(
        label="HTML",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "code", "spellcheck": "false"}),
        help_text=(
            "A Jinja template around every campaign that uses it: the campaign's body goes "
            "where {% block content %}{% endblock %} is. Same variables as a campaign body."
        ),
    )

    default_error_field = "name"
