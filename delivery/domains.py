"""Sending domains: their DKIM keys, the DNS records to publish, live DNS checks.

Writes (create, import, regenerate, delete) are the services behind the
"Sending domains" pages. ``keys_for`` is what the send pipeline calls: it
returns the decrypted, loaded keys for a From domain from a per-process cache,
so a worker decrypts and parses a key once, not once per message or chunk.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from delivery import dkim
from delivery.models import SendingDomain
from postino.crypto import DecryptionError

log = logging.getLogger(__name__)

KeyKind = Literal["rsa", "ed25519"]
KEY_KINDS: tuple[KeyKind, ...] = ("rsa", "ed25519")
DEFAULT_SELECTOR = "postino"
DNS_TIMEOUT_SECONDS = 3.0
# A worker re-reads a domain's row at most this often, so a new or changed key
# reaches every process within this time without costing a query per chunk.
KEY_CACHE_SECONDS = 30.0

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_RE = re.compile(rf"^(?:{_LABEL}\.)+{_LABEL}$")
_SELECTOR_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
# The Ed25519 selector appends "-ed", and a DNS label has at most 63 octets.
_MAX_SELECTOR = 60


# --- Validation ---------------------------------------------------------------


def normalize_domain(value: str) -> str:
    """A domain in lower-case ASCII (IDNA) form, or ValueError."""
    domain = value.strip().rstrip(".").lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError("This is not a valid domain name.") from exc
    if len(domain) > 253 or not _DOMAIN_RE.match(domain):
        raise ValueError("Enter a domain name such as example.com (no @, no http://).")
    return domain


def _selector(value: str) -> str:
    selector = value.strip().lower()
    if not selector or len(selector) > _MAX_SELECTOR or not _SELECTOR_RE.match(selector):
        raise ValidationError(
            {
                "selector": "Use letters, digits and hyphens (at most "
                f"{_MAX_SELECTOR} characters), e.g. “postino” or “pst2025”."
            }
        )
    return selector


def _set_key(sending_domain: SendingDomain, private_key: dkim.PrivateKey) -> KeyKind:
    pem = dkim.private_key_pem(private_key)
    if dkim.algorithm_of(private_key) == dkim.RSA:
        sending_domain.rsa_private_key_pem = pem
        return "rsa"
    sending_domain.ed25519_private_key_pem = pem
    return "ed25519"


class DuplicateSendingDomain(ValidationError):
    """The domain already has a row. A ValidationError on ``domain``, so a form
    shows it beside the field; the API answers it with 409 instead of 400."""

    def __init__(self, domain: str) -> None:
        super().__init__({"domain": f"{domain} is already a sending domain."})
        self.domain = domain


# --- Writes -------------------------------------------------------------------


def create_sending_domain(
    *,
    domain: str,
    selector: str = DEFAULT_SELECTOR,
    generate_rsa: bool = True,
    generate_ed25519: bool = True,
    return_path_domain: str = "",
) -> SendingDomain:
    try:
        name = normalize_domain(domain)
    except ValueError as exc:
        raise ValidationError({"domain": str(exc)}) from exc
    bounce = ""
    if return_path_domain.strip():
        try:
            bounce = normalize_domain(return_path_domain)
        except ValueError as exc:
            raise ValidationError({"return_path_domain": str(exc)}) from exc
    sending_domain = SendingDomain(
        domain=name, dkim_selector=_selector(selector), return_path_domain=bounce
    )
    if generate_rsa:
        _set_key(sending_domain, dkim.generate_rsa())
    if generate_ed25519:
        _set_key(sending_domain, dkim.generate_ed25519())
    try:
        with transaction.atomic():
            sending_domain.save()
    except IntegrityError as exc:
        raise DuplicateSendingDomain(name) from exc
    _forget(name)
    return sending_domain


def import_key(*, sending_domain: SendingDomain, pem: str) -> KeyKind:
    """Store a PEM private key (RSA or Ed25519) in the slot of its algorithm."""
    try:
        private_key = dkim.load_private_key(pem)
    except dkim.KeyImportError as exc:
        raise ValidationError({"pem": str(exc)}) from exc
    kind = _set_key(sending_domain, private_key)
    sending_domain.save()
    _forget(sending_domain.domain)
    return kind


def regenerate_key(*, sending_domain: SendingDomain, kind: KeyKind) -> None:
    """Replace (or add) one key. The old DNS record stops matching at once,
    so receivers fail the new signatures until the new record is published."""
    if kind not in KEY_KINDS:
        raise ValidationError({"kind": f"Unknown key type {kind!r}."})
    _set_key(sending_domain, dkim.generate_rsa() if kind == "rsa" else dkim.generate_ed25519())
    sending_domain.save()
    _forget(sending_domain.domain)


def delete_sending_domain(*, sending_domain: SendingDomain) -> None:
    domain = sending_domain.domain
    sending_domain.delete()
    _forget(domain)


# --- Keys for the send pipeline -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CachedKeys:
    checked_at: float
    updated_at: datetime | None
    keys: list[dkim.DkimKey]


_cache: dict[str, _CachedKeys] = {}
_cache_lock = threading.Lock()


def _forget(domain: str) -> None:
    with _cache_lock:
        _cache.pop(domain, None)


def clear_key_cache() -> None:
    with _cache_lock:
        _cache.clear()


def load_keys(sending_domain: SendingDomain) -> list[dkim.DkimKey]:
    """Decrypt and parse a domain's keys (RSA first, then Ed25519)."""
    keys: list[dkim.DkimKey] = []
    if sending_domain.has_rsa_key:
        keys.append(
            dkim.DkimKey(
                domain=sending_domain.domain,
                selector=sending_domain.rsa_selector,
                algorithm=dkim.RSA,
                private_key=dkim.load_private_key(sending_domain.rsa_private_key_pem),
            )
        )
    if sending_domain.has_ed25519_key:
        keys.append(
            dkim.DkimKey(
                domain=sending_domain.domain,
                selector=sending_domain.ed25519_selector,
                algorithm=dkim.ED25519,
                private_key=dkim.load_private_key(sending_domain.ed25519_private_key_pem),
            )
        )
    return keys


def keys_for(from_domain: str) -> list[dkim.DkimKey]:
    """The DKIM keys to sign mail from this domain with; empty if none.

    Cached per process on the row's ``updated_at``: the row is re-read at most
    every KEY_CACHE_SECONDS, and the keys are decrypted again only if it changed.
    """
    try:
        domain = normalize_domain(from_domain)
    except ValueError:
        return []
    now = time.monotonic()
    with _cache_lock:
        entry = _cache.get(domain)
    if entry is not None and now - entry.checked_at < KEY_CACHE_SECONDS:
        return entry.keys
    row = SendingDomain.objects.filter(domain=domain).first()
    if row is None:
        keys: list[dkim.DkimKey] = []
        updated_at = None
    elif entry is not None and entry.updated_at == row.updated_at:
        keys, updated_at = entry.keys, row.updated_at
    else:
        updated_at = row.updated_at
        try:
            keys = load_keys(row)
        except (DecryptionError, dkim.KeyImportError):
            # Sending unsigned beats not sending; the domain page shows the problem.
            log.exception("DKIM keys of %s cannot be loaded; sending unsigned", domain)
            keys = []
    with _cache_lock:
        _cache[domain] = _CachedKeys(checked_at=now, updated_at=updated_at, keys=keys)
    return keys


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kind: KeyKind
    label: str
    selector: str
    present: bool
    detail: str


def key_summary(sending_domain: SendingDomain) -> list[KeyInfo]:
    """What the domain page shows about each key: never the key itself."""
    infos: list[KeyInfo] = []
    for kind, label, selector, present in (
        ("rsa", "RSA", sending_domain.rsa_selector, sending_domain.has_rsa_key),
        ("ed25519", "Ed25519", sending_domain.ed25519_selector, sending_domain.has_ed25519_key),
    ):
        detail = "No key: mail is not signed with this algorithm."
        if present:
            pem = (
                sending_domain.rsa_private_key_pem
                if kind == "rsa"
                else sending_domain.ed25519_private_key_pem
            )
            private_key = dkim.load_private_key(pem)
            bits = private_key.key_size if isinstance(private_key, rsa.RSAPrivateKey) else 256
            detail = f"{bits}-bit key, signing as s={selector}"
        infos.append(KeyInfo(kind, label, selector, present, detail))  # type: ignore[arg-type]
    return infos


# --- DNS records to publish -------------------------------------------------------

RecordKey = Literal["dkim-rsa", "dkim-ed25519", "spf", "dmarc", "bounce-mx", "bounce-spf"]


@dataclass(frozen=True, slots=True)
class DnsRecord:
    key: RecordKey
    name: str
    type: str
    value: str
    purpose: str
    advice: bool = False  # recommended, not required for signing to verify

    @property
    def txt_strings(self) -> list[str]:
        """The value split into the ≤255-character strings a TXT record holds."""
        return [self.value[i : i + 255] for i in range(0, len(self.value), 255)] or [""]


def bounce_domain_for(sending_domain: SendingDomain) -> str:
    return sending_domain.return_path_domain or str(settings.POSTINO["BOUNCE_DOMAIN"])


def _public_value(pem: str) -> str:
    return dkim.dns_txt_value(dkim.load_private_key(pem))


def dns_records(sending_domain: SendingDomain) -> list[DnsRecord]:
    domain = sending_domain.domain
    records: list[DnsRecord] = []
    if sending_domain.has_rsa_key:
        records.append(
            DnsRecord(
                key="dkim-rsa",
                name=f"{sending_domain.rsa_selector}._domainkey.{domain}",
                type="TXT",
                value=_public_value(sending_domain.rsa_private_key_pem),
                purpose="DKIM public key (RSA): receivers verify our RSA signatures with it.",
            )
        )
    if sending_domain.has_ed25519_key:
        records.append(
            DnsRecord(
                key="dkim-ed25519",
                name=f"{sending_domain.ed25519_selector}._domainkey.{domain}",
                type="TXT",
                value=_public_value(sending_domain.ed25519_private_key_pem),
                purpose="DKIM public key (Ed25519, RFC 8463), for receivers that support it.",
            )
        )
    records.append(
        DnsRecord(
            key="spf",
            name=domain,
            type="TXT",
            value="v=spf1 a mx ~all",
            purpose=(
                "SPF: which servers may send for this domain. Add your SMTP provider's "
                "include (e.g. include:_spf.provider.example) before ~all. "
                "Keep a single v=spf1 record."
            ),
        )
    )
    records.append(
        DnsRecord(
            key="dmarc",
            name=f"_dmarc.{domain}",
            type="TXT",
            value=f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}",
            purpose=(
                "DMARC: a starting point that only collects reports. Move to "
                "p=quarantine, then p=reject, once the reports show all mail passes."
            ),
        )
    )
    bounce = bounce_domain_for(sending_domain)
    records.append(
        DnsRecord(
            key="bounce-mx",
            name=bounce,
            type="MX",
            value=f"10 {settings.BASE_HOST}.",
            purpose=(
                "Return-Path (bounce) domain: bounces go to bounces+…@" + bounce + "; an MX "
                "pointing at this host lets Postino process them."
            ),
            advice=True,
        )
    )
    if bounce != domain:
        records.append(
            DnsRecord(
                key="bounce-spf",
                name=bounce,
                type="TXT",
                value="v=spf1 a mx ~all",
                purpose=(
                    "SPF for the bounce domain: receivers check SPF against the envelope "
                    "sender, which is on this domain. Add your SMTP provider's include."
                ),
                advice=True,
            )
        )
    return records


# --- Live DNS checks ------------------------------------------------------------


class DnsLookupError(Exception):
    """The lookup itself failed (timeout, no resolver), as opposed to no record."""


class Resolver(Protocol):
    def txt(self, name: str) -> list[str]:
        """TXT records at ``name``, each with its strings joined; [] if none."""
        ...

    def mx(self, name: str) -> list[str]:
        """MX exchanges at ``name``, lower-case without the final dot; [] if none."""
        ...


class DnsPythonResolver:
    """The system's resolver through dnspython, with a short overall timeout."""

    def __init__(self, timeout: float = DNS_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout

    def _resolve(self, name: str, rdtype: str) -> list[object]:
        import dns.exception
        import dns.resolver

        try:
            resolver = dns.resolver.Resolver()
            resolver.timeout = resolver.lifetime = self.timeout
            return list(resolver.resolve(name, rdtype, search=False))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise DnsLookupError(f"{rdtype} lookup of {name} failed: {exc}") from exc

    def txt(self, name: str) -> list[str]:
        return [
            b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
            for rdata in self._resolve(name, "TXT")
        ]

    def mx(self, name: str) -> list[str]:
        return [
            str(rdata.exchange).rstrip(".").lower()  # type: ignore[attr-defined]
            for rdata in self._resolve(name, "MX")
        ]


def default_resolver() -> Resolver:
    """The resolver the DNS check uses; tests replace this function."""
    return DnsPythonResolver()


CheckStatus = Literal["ok", "missing", "wrong", "error"]


@dataclass(frozen=True, slots=True)
class DnsCheck:
    record: DnsRecord
    status: CheckStatus
    found: str
    message: str


def _check_dkim(record: DnsRecord, found: list[str]) -> DnsCheck:
    if not found:
        return DnsCheck(record, "missing", "", "No TXT record at this name yet.")
    expected = dkim.parse_tag_list(record.value)
    for value in found:
        tags = dkim.parse_tag_list(value)
        if tags.get("p") == expected["p"] and tags.get("k", "rsa") == expected["k"]:
            return DnsCheck(record, "ok", value, "Published and matches our key.")
    shown = " | ".join(found)
    tags = dkim.parse_tag_list(found[0])
    if "p" not in tags:
        message = "The TXT record here is not a DKIM key (no p= tag)."
    elif not tags["p"]:
        message = "The published key is empty (p=), which means revoked."
    elif tags.get("k", "rsa") != expected["k"]:
        message = f"The published key is k={tags.get('k', 'rsa')}; ours is k={expected['k']}."
    else:
        message = "A different public key is published: update it to the value shown."
    return DnsCheck(record, "wrong", shown, message)


def _check_spf(record: DnsRecord, found: list[str]) -> DnsCheck:
    spf = [v for v in found if v.lower() == "v=spf1" or v.lower().startswith("v=spf1 ")]
    if not spf:
        return DnsCheck(record, "missing", "", "No SPF (v=spf1) record.")
    if len(spf) > 1:
        return DnsCheck(
            record,
            "wrong",
            " | ".join(spf),
            "More than one SPF record: receivers treat that as an error. Merge them into one.",
        )
    return DnsCheck(record, "ok", spf[0], "An SPF record is published.")


def _check_dmarc(record: DnsRecord, found: list[str]) -> DnsCheck:
    dmarc = [v for v in found if v.replace(" ", "").upper().startswith("V=DMARC1")]
    if not dmarc:
        return DnsCheck(record, "missing", "", "No DMARC (v=DMARC1) record.")
    if len(dmarc) > 1:
        return DnsCheck(
            record,
            "wrong",
            " | ".join(dmarc),
            "More than one DMARC record: receivers ignore them all. Keep one.",
        )
    policy = dkim.parse_tag_list(dmarc[0]).get("p", "")
    message = f"Published, policy p={policy}." if policy else "Published, but without a p= policy."
    return DnsCheck(record, "ok" if policy else "wrong", dmarc[0], message)


def _check_mx(record: DnsRecord, found: list[str]) -> DnsCheck:
    if not found:
        return DnsCheck(record, "missing", "", "No MX record: bounces cannot reach us.")
    here = str(settings.BASE_HOST).rstrip(".").lower()
    if here in found:
        return DnsCheck(record, "ok", ", ".join(found), "Bounces come to this host.")
    return DnsCheck(
        record,
        "wrong",
        ", ".join(found),
        f"Bounces go to {', '.join(found)}, not {here}; fine only if that host forwards them.",
    )


def _check(record: DnsRecord, resolver: Resolver) -> DnsCheck:
    try:
        if record.type == "MX":
            return _check_mx(record, resolver.mx(record.name))
        found = resolver.txt(record.name)
    except DnsLookupError as exc:
        return DnsCheck(record, "error", "", str(exc))
    if record.key in ("dkim-rsa", "dkim-ed25519"):
        return _check_dkim(record, found)
    if record.key == "dmarc":
        return _check_dmarc(record, found)
    return _check_spf(record, found)


def check_dns(sending_domain: SendingDomain, resolver: Resolver | None = None) -> list[DnsCheck]:
    """Look each record up and say whether it is ok, missing or wrong."""
    resolver = resolver or default_resolver()
    return [_check(record, resolver) for record in dns_records(sending_domain)]


# --- DMARC alignment --------------------------------------------------------------

# Second-level labels under which a country's registrations sit (example.co.uk).
# Without the public suffix list this is how the organizational domain is
# approximated; a domain it gets wrong is judged not aligned, never aligned
# when it is not, unless it sits under a public suffix missing from this list.
_PUBLIC_SECOND_LEVELS = frozenset(("ac", "co", "com", "edu", "gov", "net", "or", "org", "ne"))


def organizational_domain(domain: str) -> str:
    """The registered domain (RFC 7489 §3.2), approximated: news.example.co.uk → example.co.uk."""
    labels = domain.lower().rstrip(".").split(".")
    keep = (
        3 if len(labels) > 2 and len(labels[-1]) == 2 and labels[-2] in _PUBLIC_SECOND_LEVELS else 2
    )
    return ".".join(labels[-keep:])


def aligned(identifier: str, from_domain: str, *, strict: bool) -> bool:
    """DMARC identifier alignment: the same domain (strict), or the same
    organizational domain (relaxed, DMARC's default)."""
    a, b = identifier.lower().rstrip("."), from_domain.lower().rstrip(".")
    return a == b if strict else organizational_domain(a) == organizational_domain(b)


AlignmentStatus = Literal["ok", "fail", "error"]


@dataclass(frozen=True, slots=True)
class AlignmentPart:
    status: AlignmentStatus  # error: a lookup failed, so we cannot tell
    message: str


@dataclass(frozen=True, slots=True)
class Alignment:
    """Whether mail From the domain passes DMARC: an aligned DKIM signature,
    an aligned SPF pass, and a DMARC record that asks for it."""

    domain: str
    dkim: AlignmentPart
    spf: AlignmentPart
    dmarc: AlignmentPart

    @property
    def status(self) -> AlignmentStatus:
        parts = (self.dkim.status, self.spf.status, self.dmarc.status)
        return "fail" if "fail" in parts else "error" if "error" in parts else "ok"


def _part(check: DnsCheck | None, ok: str) -> AlignmentPart:
    if check is None:
        return AlignmentPart("fail", "Not checked.")
    if check.status == "error":
        return AlignmentPart("error", check.message)
    return AlignmentPart("ok", ok) if check.status == "ok" else AlignmentPart("fail", check.message)


def check_alignment(sending_domain: SendingDomain, checks: list[DnsCheck]) -> Alignment:
    """Judge DMARC alignment from ``check_dns``'s results for the domain.

    DKIM: we sign with d= the domain itself, so a published, matching key is
    an aligned signature. SPF: receivers check the envelope sender, which is
    on the Return-Path (bounce) domain, so that domain needs the SPF record and
    must align with the From domain (strictly if DMARC says ``aspf=s``).
    """
    domain = sending_domain.domain
    by_key = {check.record.key: check for check in checks}
    dkim_keys: tuple[RecordKey, ...] = ("dkim-rsa", "dkim-ed25519")
    dkim_checks = [by_key[key] for key in dkim_keys if key in by_key]
    if not dkim_checks:
        dkim_part = AlignmentPart("fail", "No DKIM key: mail from this domain is not signed.")
    elif any(check.status == "ok" for check in dkim_checks):
        dkim_part = AlignmentPart("ok", f"Signed with d={domain}; the key is published.")
    else:
        worst = next((c for c in dkim_checks if c.status != "error"), dkim_checks[0])
        dkim_part = _part(worst, "")
    dmarc_check = by_key.get("dmarc")
    dmarc_part = _part(dmarc_check, dmarc_check.message if dmarc_check else "")
    tags = dkim.parse_tag_list(dmarc_check.found) if dmarc_check and dmarc_check.found else {}
    strict = tags.get("aspf", "r").lower() == "s"
    bounce = bounce_domain_for(sending_domain)
    spf_check = by_key.get("spf" if bounce == domain else "bounce-spf")
    if not aligned(bounce, domain, strict=strict):
        mode = "strict (aspf=s)" if strict else "relaxed"
        spf_part = AlignmentPart(
            "fail",
            f"The Return-Path domain {bounce} does not align with {domain} ({mode}): "
            "SPF can pass but never counts for DMARC.",
        )
    else:
        spf_part = _part(spf_check, f"SPF published for the Return-Path domain {bounce}.")
    return Alignment(domain=domain, dkim=dkim_part, spf=spf_part, dmarc=dmarc_part)
