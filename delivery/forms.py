from __future__ import annotations

from django import forms

from delivery.models import SmtpServer
from postino.forms import ServiceForm


class SmtpServerForm(ServiceForm):
    name = forms.CharField(max_length=200)
    host = forms.CharField(max_length=253)
    port = forms.IntegerField(initial=587)
    security = forms.ChoiceField(choices=SmtpServer.Security.choices, initial="starttls")
    username = forms.CharField(
        max_length=320, required=False, help_text="Leave empty if the server needs no login."
    )
    # render_value=False: a stored password is never sent back to the browser.
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_password = forms.BooleanField(required=False, label="Clear the stored password")
    max_connections = forms.IntegerField(initial=4, label="Max connections")
    messages_per_second = forms.FloatField(initial=50.0, label="Messages per second")

    default_error_field = "name"

    def __init__(self, *args: object, editing: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.editing = editing
        if editing:
            self.fields["password"].help_text = "Leave empty to keep the stored password."
        else:
            del self.fields["clear_password"]

    def service_kwargs(self) -> dict[str, object]:
        """Arguments for create/update_smtp_server; None keeps the stored password."""
        data = dict(self.cleaned_data)
        clear = data.pop("clear_password", False)
        if self.editing:
            if clear:
                data["password"] = ""
            elif not data["password"]:
                data["password"] = None
        return data

    @classmethod
    def for_server(cls, server: SmtpServer) -> SmtpServerForm:
        return cls(
            editing=True,
            initial={
                "name": server.name,
                "host": server.host,
                "port": server.port,
                "security": server.security,
                "username": server.username,
                "max_connections": server.max_connections,
                "messages_per_second": server.messages_per_second,
            },
        )
