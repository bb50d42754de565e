"""The bounce mailbox form: it parses input; ``bounces.mailbox_services`` decides."""

from __future__ import annotations

from typing import Any

from django import forms

from bounces.models import Mailbox
from postino.forms import ServiceForm

FIELDS = (
    "name",
    "protocol",
    "host",
    "port",
    "security",
    "username",
    "password",
    "folder",
    "after_processing",
    "move_to",
    "enabled",
)


class MailboxForm(ServiceForm):
    name = forms.CharField(
        max_length=200, help_text="For you, e.g. “Bounces at example.com”. Must be unique."
    )
    protocol = forms.ChoiceField(
        choices=Mailbox.Protocol.choices,
        initial=Mailbox.Protocol.IMAP,
        help_text="IMAP can read any folder and move processed messages; POP3 only reads "
        "the inbox and deletes them.",
    )
    host = forms.CharField(max_length=253, widget=forms.TextInput(attrs={"spellcheck": "false"}))
    port = forms.IntegerField(
        initial=993,
        help_text="Usually 993 for IMAPS, 143 for IMAP, 995 for POP3S, 110 for POP3.",
    )
    security = forms.ChoiceField(
        choices=Mailbox.Security.choices,
        initial=Mailbox.Security.TLS,
        help_text="Certificates are always verified. Implicit TLS goes with 993 and 995, "
        "STARTTLS with 143 and 110.",
    )
    username = forms.CharField(max_length=320, label="User name")
    # render_value=False: a stored password, or one just typed, is never sent back
    # to the browser, not even to correct another field.
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again.",
    )
    folder = forms.CharField(
        max_length=200,
        initial="INBOX",
        help_text="The folder bounces arrive in. POP3 always reads INBOX.",
    )
    after_processing = forms.ChoiceField(
        label="After processing",
        choices=Mailbox.AfterProcessing.choices,
        initial=Mailbox.AfterProcessing.DELETE,
        widget=forms.RadioSelect,
        help_text="Only once a message has been recorded; one that cannot be processed "
        "stays where it is and is tried again at the next poll.",
    )
    move_to = forms.CharField(
        max_length=200,
        required=False,
        initial="Processed",
        label="Move to folder",
        help_text="Used when processed messages are moved (IMAP); created if it is missing.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Poll this mailbox (enabled)")

    field_order = list(FIELDS)
    default_error_field = "name"

    def __init__(self, *args: object, editing: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.editing = editing
        if editing:
            self.fields["password"].help_text = "Leave empty to keep the stored password."

    def service_kwargs(self) -> dict[str, Any]:
        """Arguments for create/update_mailbox; on edit, an empty password is None (kept)."""
        data: dict[str, Any] = {name: self.cleaned_data[name] for name in FIELDS}
        data["move_to"] = data["move_to"] or ""
        if self.editing and not data["password"]:
            data["password"] = None
        return data

    @classmethod
    def for_mailbox(cls, mailbox: Mailbox) -> MailboxForm:
        return cls(
            editing=True,
            initial={name: getattr(mailbox, name) for name in FIELDS if name != "password"},
        )
