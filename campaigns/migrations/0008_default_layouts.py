"""Two responsive layouts shipped with Postino, created by name unless one exists.

The HTML is frozen here, as a migration's data must be: editing a default later
is the user's business (they are ordinary layouts), and a changed default ships
under a new name in a new migration.
"""

from django.db import migrations

# What a marketer sets once per layout: the brand, its logo and the postal
# address the law asks a bulk mailer to show (CAN-SPAM, and the EU's rules).
_SETTINGS = """{#- Edit these once: they appear in every campaign that uses this layout. -#}
{%- set brand = {
  "name": "Your brand",
  "logo_url": "",
  "website_url": "https://example.com",
  "postal_address": "Your company · Street 1 · 12345 City · Country",
} -%}
"""

_HEAD = """<!doctype html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>{{ campaign.subject }}</title>
<style>
body { margin: 0; padding: 0; background-color: #f2f4f7; }
table { border-collapse: collapse; }
img { border: 0; outline: none; text-decoration: none; max-width: 100%; height: auto; }
.wrapper { width: 100%; background-color: #f2f4f7; }
.container { width: 100%; max-width: 600px; margin: 0 auto; }
.header { padding: 24px 32px; }
.brand { font-family: Helvetica, Arial, sans-serif; font-size: 20px; font-weight: bold; color: #111827; text-decoration: none; }
.card { background-color: #ffffff; border-radius: 8px; }
.content { padding: 32px; font-family: Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.6; color: #1f2937; }
.content h1 { font-size: 26px; line-height: 1.25; margin: 0 0 16px; color: #111827; }
.content h2 { font-size: 20px; line-height: 1.3; margin: 24px 0 12px; color: #111827; }
.content p { margin: 0 0 16px; }
.content a { color: #2f5bea; }
.content img { display: block; }
.footer { padding: 24px 32px; font-family: Helvetica, Arial, sans-serif; font-size: 12px; line-height: 1.5; color: #6b7280; text-align: center; }
.footer a { color: #6b7280; text-decoration: underline; }
@media only screen and (max-width: 620px) {
  .header, .content, .footer { padding-left: 16px !important; padding-right: 16px !important; }
  .card { border-radius: 0 !important; }
  .content h1 { font-size: 22px !important; }
}
</style>
</head>
"""

_FOOTER = """<tr>
<td class="footer">
<p>You receive this because you subscribed to {{ brand.name }}.<br>
<a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ preferences_url }}">Email preferences</a> · <a href="{{ webview_url }}">View in your browser</a></p>
<p>{{ brand.postal_address }}</p>
</td>
</tr>
"""

NEWSLETTER = (
    _SETTINGS
    + _HEAD
    + """<body>
<table role="presentation" class="wrapper" width="100%" cellpadding="0" cellspacing="0" border="0">
<tr>
<td align="center">
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0">
<tr>
<td class="header">
{% if brand.logo_url %}<a href="{{ brand.website_url }}"><img src="{{ brand.logo_url }}" alt="{{ brand.name }}" width="160"></a>{% else %}<a class="brand" href="{{ brand.website_url }}">{{ brand.name }}</a>{% endif %}
</td>
</tr>
<tr>
<td class="card content">
{% block content %}{% endblock %}
</td>
</tr>
"""
    + _FOOTER
    + """</table>
</td>
</tr>
</table>
</body>
</html>
"""
)

ANNOUNCEMENT = (
    _SETTINGS.replace(
        '  "postal_address": "Your company · Street 1 · 12345 City · Country",\n',
        '  "postal_address": "Your company · Street 1 · 12345 City · Country",\n'
        '  "hero_image_url": "",\n'
        '  "hero_alt": "",\n',
    )
    + _HEAD.replace(
        "@media only screen",
        ".hero img { display: block; width: 100%; border-radius: 8px 8px 0 0; }\n"
        ".headline { padding: 32px 32px 0; font-family: Helvetica, Arial, sans-serif;"
        " font-size: 30px; line-height: 1.2; font-weight: bold; color: #111827; }\n"
        "@media only screen",
    )
    + """<body>
<table role="presentation" class="wrapper" width="100%" cellpadding="0" cellspacing="0" border="0">
<tr>
<td align="center">
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0">
<tr>
<td class="header" align="center">
{% if brand.logo_url %}<a href="{{ brand.website_url }}"><img src="{{ brand.logo_url }}" alt="{{ brand.name }}" width="160"></a>{% else %}<a class="brand" href="{{ brand.website_url }}">{{ brand.name }}</a>{% endif %}
</td>
</tr>
<tr>
<td class="card">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
{% if brand.hero_image_url %}<tr><td class="hero"><img src="{{ brand.hero_image_url }}" alt="{{ brand.hero_alt }}" width="600"></td></tr>{% endif %}
<tr><td class="headline">{{ campaign.subject }}</td></tr>
<tr>
<td class="content">
{% block content %}{% endblock %}
</td>
</tr>
</table>
</td>
</tr>
"""
    + _FOOTER
    + """</table>
</td>
</tr>
</table>
</body>
</html>
"""
)

DEFAULTS = {
    "Newsletter (one column)": NEWSLETTER,
    "Announcement (hero image)": ANNOUNCEMENT,
}


def create_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    Template = apps.get_model("campaigns", "Template")
    for name, html in DEFAULTS.items():
        # By name: a user's own layout of that name, or an edited default, stays.
        Template.objects.get_or_create(name=name, defaults={"html": html})


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0007_writing")]

    # Reversing keeps them: campaigns may use them (Campaign.template is PROTECT).
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
