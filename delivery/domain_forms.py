"""Forms for the Sending domains pages; they parse, the services decide."""

from __future__ import annotations

from django import forms

from delivery.domains import DEFAULT_SELECTOR
from postino.forms import ServiceForm


class SendingDomainForm(ServiceForm):
    domain = forms.CharField(max_length=253, help_text="The domain of your From addresses.")
    selector = forms.CharField(
        max_length=60,
        initial=DEFAULT_SELECTOR,
        label="DKIM selector",
        help_text="RSA signs with this selector, Ed25519 with the same plus “-ed”.",
    )
    generate_rsa = forms.BooleanField(
        required=False, initial=True, label="Generate an RSA-2048 key (understood everywhere)"
    )
    generate_ed25519 = forms.BooleanField(
        required=False, initial=True, label="Generate an Ed25519 key (RFC 8463; signs as well)"
    )
    return_path_domain = forms.CharField(
        max_length=253,
        required=False,
        label="Bounce (Return-Path) domain",
        help_text="Leave empty to use the server-wide bounce domain.",
    )

    default_error_field = "domain"

    def service_kwargs(self) -> dict[str, object]:
        """Arguments for ``create_sending_domain``."""
        return dict(self.cleaned_data)


class SecretTextarea(forms.Textarea):
    """A textarea that never renders its value back (a pasted private key)."""

    def format_value(self, value: object) -> str | None:
        return None


class ImportKeyForm(ServiceForm):
    pem = forms.CharField(
        label="Private key (PEM)",
        strip=False,
        widget=SecretTextarea(
            attrs={
                "class": "code",
                "rows": 10,
                "spellcheck": "false",
                "autocomplete": "off",
                "placeholder": "-----BEGIN PRIVATE KEY-----",
            }
        ),
        help_text="RSA (1024 to 4096 bits; 2048 recommended) or Ed25519, without a passphrase. "
        "It replaces the domain's key of the same type.",
    )

    default_error_field = "pem"

    def pem_value(self) -> str:
        return str(self.cleaned_data["pem"])


class KeyKindForm(forms.Form):
    kind = forms.ChoiceField(choices=[("rsa", "RSA"), ("ed25519", "Ed25519")])
