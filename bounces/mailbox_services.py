"""Writes for bounce mailboxes (the IMAP/POP3 boxes the workers poll).

Views, the API and management commands call these; each raises Django's
``ValidationError`` with one message per field the form can show.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bounces.models import Mailbox
from postino import jobs

MAX_FOLDER = 200


def validate_mailbox(
    *,
    name: str,
    protocol: str,
    host: str,
    port: int,
    security: str,
    username: str,
    folder: str,
    after_processing: str,
    move_to: str,
) -> dict[str, str]:
    """Field → message for every rule broken (empty when all is well)."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the mailbox a name."
    if protocol not in Mailbox.Protocol.values:
        errors["protocol"] = f"Protocol must be one of {', '.join(Mailbox.Protocol.values)}."
    stripped = host.strip()
    if not stripped or any(c.isspace() for c in stripped) or "/" in stripped:
        errors["host"] = "Enter a host name or IP address."
    try:
        port_ok = 1 <= int(port) <= 65535
    except (TypeError, ValueError):
        port_ok = False
    if not port_ok:
        errors["port"] = "Port must be between 1 and 65535."
    if security not in Mailbox.Security.values:
        errors["security"] = f"Security must be one of {', '.join(Mailbox.Security.values)}."
    if not username.strip():
        errors["username"] = "Enter the user name the mailbox logs in with."
    is_pop3 = protocol == Mailbox.Protocol.POP3
    folder_problem = _folder_problem(folder)
    if is_pop3 and folder.strip().upper() not in ("", "INBOX"):
        errors["folder"] = "POP3 only reads the inbox: leave the folder as INBOX, or use IMAP."
    elif not is_pop3 and folder_problem:
        errors["folder"] = folder_problem
    if after_processing not in Mailbox.AfterProcessing.values:
        errors["after_processing"] = (
            f"Choose one of {', '.join(Mailbox.AfterProcessing.values)} for processed messages."
        )
    elif after_processing == Mailbox.AfterProcessing.MOVE:
        if is_pop3:
            errors["after_processing"] = (
                "POP3 has no folders, so processed messages cannot be moved: choose "
                "“delete”, or connect with IMAP."
            )
        elif not move_to.strip():
            errors["move_to"] = "Name the folder processed messages are moved to."
        elif _folder_problem(move_to):
            errors["move_to"] = _folder_problem(move_to)
        elif move_to.strip() == folder.strip():
            errors["move_to"] = (
                "Processed messages must go to another folder than the one that is polled."
            )
    return errors


def _folder_problem(folder: str) -> str:
    if not folder.strip():
        return "Enter a folder name (INBOX for the inbox)."
    if len(folder.strip()) > MAX_FOLDER:
        return f"A folder name can have at most {MAX_FOLDER} characters."
    if any(c in folder for c in "\r\n\0*%"):
        return "A folder name cannot contain line breaks, * or %."
    return ""


def _save(mailbox: Mailbox) -> Mailbox:
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"A mailbox named {mailbox.name!r} already exists."}
        ) from exc
    return mailbox


def _apply(
    mailbox: Mailbox,
    *,
    name: str,
    protocol: str,
    host: str,
    port: int,
    security: str,
    username: str,
    folder: str,
    after_processing: str,
    move_to: str,
    enabled: bool,
    password_missing: bool = False,
) -> None:
    errors = validate_mailbox(
        name=name,
        protocol=protocol,
        host=host,
        port=port,
        security=security,
        username=username,
        folder=folder,
        after_processing=after_processing,
        move_to=move_to,
    )
    if password_missing:
        errors["password"] = "Enter the mailbox password."  # noqa: S105 - a message
    if errors:
        raise ValidationError(errors)
    mailbox.name = name.strip()
    mailbox.protocol = protocol
    mailbox.host = host.strip()
    mailbox.port = int(port)
    mailbox.security = security
    mailbox.username = username.strip()
    mailbox.folder = "INBOX" if protocol == Mailbox.Protocol.POP3 else folder.strip()
    mailbox.after_processing = after_processing
    mailbox.move_to = move_to.strip()
    mailbox.enabled = bool(enabled)


def create_mailbox(
    *,
    name: str,
    host: str,
    username: str,
    password: str,
    protocol: str = Mailbox.Protocol.IMAP,
    port: int = 993,
    security: str = Mailbox.Security.TLS,
    folder: str = "INBOX",
    after_processing: str = Mailbox.AfterProcessing.DELETE,
    move_to: str = "Processed",
    enabled: bool = True,
) -> Mailbox:
    """Add a mailbox for the workers to poll."""
    mailbox = Mailbox()
    _apply(
        mailbox,
        name=name,
        protocol=protocol,
        host=host,
        port=port,
        security=security,
        username=username,
        folder=folder,
        after_processing=after_processing,
        move_to=move_to,
        enabled=enabled,
        password_missing=not password,
    )
    mailbox.password = password
    return _save(mailbox)


def update_mailbox(
    *,
    mailbox: Mailbox,
    name: str,
    host: str,
    username: str,
    password: str | None,
    protocol: str,
    port: int,
    security: str,
    folder: str,
    after_processing: str,
    move_to: str,
    enabled: bool,
) -> Mailbox:
    """Change a mailbox. ``password=None`` keeps the stored one (forms never show it)."""
    _apply(
        mailbox,
        name=name,
        protocol=protocol,
        host=host,
        port=port,
        security=security,
        username=username,
        folder=folder,
        after_processing=after_processing,
        move_to=move_to,
        enabled=enabled,
    )
    if password is not None:
        mailbox.password = password
    return _save(mailbox)


def request_poll(*, mailbox: Mailbox) -> bool:
    """Queue a poll of the mailbox now (after commit, by id); False if disabled."""
    if not mailbox.enabled:
        return False
    jobs.poll_mailbox(mailbox.pk)
    return True


def delete_mailbox(*, mailbox: Mailbox) -> None:
    """Forget a mailbox's settings; the bounces it brought in stay."""
    mailbox.delete()
