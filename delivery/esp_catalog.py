"""The ESPs we can send through, and the settings each one takes.

Pure data and validation, importing nothing of anymail's: models, forms and
services can name and check an ESP without loading the HTTP transports
(``delivery.pipeline.esp``), which import the send pipeline's message types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EspSpec:
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


# The ESPs anymail supports, with the settings each one needs (the names are
# anymail's, passed to its backend as keyword arguments).
ESPS: dict[str, EspSpec] = {
    "amazon_ses": EspSpec(
        "Amazon SES", (), ("client_params", "session_params", "configuration_set_name")
    ),
    "brevo": EspSpec("Brevo", ("api_key",), ("api_url",)),
    "mailersend": EspSpec("MailerSend", ("api_token",), ("api_url",)),
    "mailgun": EspSpec("Mailgun", ("api_key",), ("sender_domain", "api_url")),
    "mailjet": EspSpec("Mailjet", ("api_key", "secret_key"), ("api_url",)),
    "mailtrap": EspSpec("Mailtrap", ("api_token",), ("api_url", "testing_inbox_id")),
    "mandrill": EspSpec("Mandrill", ("api_key",), ("api_url",)),
    "postal": EspSpec("Postal", ("api_key", "api_url")),
    "postmark": EspSpec("Postmark", ("server_token",), ("api_url",)),
    "resend": EspSpec("Resend", ("api_key",), ("api_url",)),
    "scaleway": EspSpec("Scaleway TEM", ("secret_key", "project_id"), ("region",)),
    "sendgrid": EspSpec("SendGrid", ("api_key",), ("api_url",)),
    "sparkpost": EspSpec("SparkPost", ("api_key",), ("api_url", "subaccount")),
    "unisender_go": EspSpec("Unisender Go", ("api_key", "api_url")),
}  # fmt: skip


class EspConfigurationError(ValueError):
    pass


def validate_credentials(esp: str, credentials: dict[str, Any]) -> dict[str, Any]:
    """Check an ESP's settings; raise EspConfigurationError naming what is wrong."""
    spec = ESPS.get(esp)
    if spec is None:
        raise EspConfigurationError(
            f"Unknown ESP {esp!r}; choose one of {', '.join(sorted(ESPS))}."
        )
    missing = [name for name in spec.required if not credentials.get(name)]
    if missing:
        raise EspConfigurationError(f"{spec.label} needs {', '.join(missing)}.")
    unknown = sorted(set(credentials) - set(spec.required) - set(spec.optional))
    if unknown:
        raise EspConfigurationError(
            f"{spec.label} does not take {', '.join(unknown)}; "
            f"it takes {', '.join(spec.required + spec.optional)}."
        )
    return credentials
