"""Hard or soft: one decision from an SMTP reply, an RFC 3463 status and text.

The rule is "the most specific evidence wins":

1. A 4xx reply or 4.x.x status is transient, so soft, whatever the words say.
2. A problem with *our* sender (unverified identity, sender domain) is soft.
3. Mailbox full and message too large are soft, even under a 5.x.x status
   (Gmail sends ``552-5.2.2 ... over quota``).
4. A status that names the address (5.1.1, 5.1.2, 5.1.3, 5.1.6, 5.1.10,
   5.2.1, 5.4.4) is hard.
5. Greylisting, rate limits, mail loops and spam or reputation blocks are
   soft: the address exists, the receiver did not want this message now.
   A 5xx "blocked due to inactivity" is a disabled mailbox, not a block.
6. Temporary DNS failures are soft; words that say the user, mailbox or
   domain does not exist, is disabled or has moved are hard.
7. Policy, relaying and authorisation refusals are soft.
8. A refusal of the address with no reason ("recipient rejected", "mailbox
   unavailable") is hard under a 5xx reply. We decided so because that is
   what the large providers (Outlook.com's ``550 5.5.0 Requested action not
   taken: mailbox unavailable``) mean by it, and RFC 5321 defines 550 as
   "mailbox unavailable"; the price is an occasional suppression of an
   address that a misconfigured server refused.
9. Words for a temporary condition are soft; a bare "rejected" is soft.
10. Otherwise the status decides (5.7.x policy, 5.3.x system, 5.4.x network,
    5.6.x content are soft; other 5.x.x hard), then the basic reply code
    (552 is "exceeded storage allocation" in RFC 5321, so soft; other 5xx
    hard), and with no code and no words at all: soft, because suppressing
    an address needs evidence.

A status of only ``X.0.0`` (or none) is replaced by the one the words imply
(``5.0.0`` with "user unknown" is reported as 5.1.1, ``4.0.0`` with "mailbox
full" as 4.2.2), keeping the class; an enhanced code in the reply itself
always wins over inference (see ``more_specific_status``).
"""

from __future__ import annotations

import re
from typing import Literal

from bounces import i18n_phrases as phrases

FailureKind = Literal["hard", "soft"]

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
# A basic reply code where MTAs put one: at the start, after "said:", a quote,
# "#", "<<<", "error:" and the like.
# Not the first part of an IP address ("[203.0.113.12]").
_BASIC = re.compile(r"(?:^|[\s'\"(\[<:;#=>])([245][0-5]\d)(?=[\s\-:,)\]]|\.(?!\d)|$)")
_SPACES = re.compile(r"\s+")
MAX_REASON = 3000


def _compile(parts: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation, to be searched in lower-cased text: IGNORECASE makes
    Python's engine several times slower on these patterns."""
    return re.compile("|".join(f"(?:{part})" for part in parts))


SENDER_PROBLEM = _compile(phrases.SENDER_PROBLEM)
MAILBOX_FULL = _compile(phrases.MAILBOX_FULL)
MESSAGE_TOO_LARGE = _compile(phrases.MESSAGE_TOO_LARGE)
GREYLISTED = _compile(phrases.GREYLISTED)
RATE_LIMITED = _compile(phrases.RATE_LIMITED)
MAIL_LOOP = _compile(phrases.MAIL_LOOP)
SPAM_OR_BLOCK = _compile(phrases.SPAM_OR_BLOCK)
DNS_TEMPORARY = _compile(phrases.DNS_TEMPORARY)
HOST_UNKNOWN = _compile(phrases.HOST_UNKNOWN)
MAILBOX_DISABLED = _compile(phrases.MAILBOX_DISABLED)
MAILBOX_DORMANT = _compile(phrases.MAILBOX_DORMANT)
MAILBOX_MOVED = _compile(phrases.MAILBOX_MOVED)
USER_UNKNOWN = _compile(phrases.USER_UNKNOWN)
USER_UNKNOWN_WEAK = _compile(phrases.USER_UNKNOWN_WEAK)
POLICY = _compile(phrases.POLICY_WEAK)
GENERIC_REFUSAL = _compile(phrases.GENERIC_REFUSAL)
TEMPORARY = _compile(phrases.TEMPORARY)

# Statuses that are about the address itself.
HARD_STATUSES = frozenset({"1.1", "1.2", "1.3", "1.6", "1.10", "2.1", "4.4"})
# Status subjects that say nothing against the address (RFC 3463 section 3).
SOFT_SUBJECTS = frozenset({"3", "4", "6", "7"})
SOFT_STATUSES = frozenset({"2.2", "2.3", "2.4", "1.7", "1.8"})


def find_enhanced_status(text: str) -> str | None:
    match = _ENHANCED.search(text)
    return ".".join(match.groups()) if match else None


def find_basic_code(text: str) -> int | None:
    match = _BASIC.search(text)
    return int(match.group(1)) if match else None


def more_specific_status(status: str | None, other: str | None) -> str | None:
    """``other`` (from a diagnostic) when ``status`` is only ``X.0.0`` of the
    same class; a DSN's Status field is often less precise than the reply."""
    if not status:
        return other
    if other and status.endswith(".0.0") and other[0] == status[0] and other != status:
        return other
    return status


def classify_smtp_reply(code: int | None, text: str) -> tuple[FailureKind, str | None]:
    """Classify a refusal: ``(kind, RFC 3463 status)``; the status is taken
    from the reply, or inferred from what it says when the reply has none."""
    return classify_failure(code=code, status=None, text=text)


def classify_failure(
    *, code: int | None, status: str | None, text: str, status_from_text: bool = True
) -> tuple[FailureKind, str | None]:
    """As ``classify_smtp_reply``, with a known status (a DSN's Status field).
    ``status_from_text=False`` when ``text`` may quote unrelated replies (a
    session transcript) and the caller found the status itself."""
    # A reply is a few hundred characters; a longer text is a transcript or
    # junk, and every phrase list below is searched in it.
    flat = _SPACES.sub(" ", (text or "")[:MAX_REASON]).strip().lower()
    if status_from_text:
        status = more_specific_status(status, find_enhanced_status(flat))
    if code is None:
        code = find_basic_code(flat)
    if status is not None:
        klass = int(status[0])
    elif code is not None:
        klass = code // 100
    else:
        klass = 0  # unknown: a failure notice with no code at all
    detail = status.split(".", 1)[1] if status else None
    subject = detail.split(".", 1)[0] if detail else None

    # "X.0.0" says only the class: what the words say is more precise (a
    # Status: 5.0.0 over "550 User unknown" becomes 5.1.1).
    generic = status is None or status.endswith(".0.0")

    def infer(default_class: int, detail_if_unknown: str) -> str:
        if not generic and status:
            return status
        return f"{klass if klass in (4, 5) else default_class}.{detail_if_unknown}"

    if klass == 2:
        # A success code in a failure: only the words can tell.
        klass = 0
    if klass == 4:
        soft_detail = _soft_detail(flat)
        if status and (not generic or soft_detail == "0.0"):
            return "soft", status
        return "soft", f"4.{soft_detail}"
    if SENDER_PROBLEM.search(flat) or detail in ("1.7", "1.8"):
        return "soft", infer(5, "7.1")
    if MAILBOX_FULL.search(flat) or detail == "2.2":
        return "soft", infer(5, "2.2")
    if MESSAGE_TOO_LARGE.search(flat) or detail in ("3.4", "2.3"):
        return "soft", infer(5, "3.4")
    if detail in HARD_STATUSES:
        return "hard", status
    if GREYLISTED.search(flat):
        return "soft", infer(4, "2.0")
    if RATE_LIMITED.search(flat):
        return "soft", infer(4, "7.0")
    if MAIL_LOOP.search(flat):
        return "soft", infer(5, "4.6")
    if klass == 5 and MAILBOX_DORMANT.search(flat):
        return "hard", infer(5, "2.1")
    if SPAM_OR_BLOCK.search(flat):
        return "soft", infer(5, "7.1")
    if DNS_TEMPORARY.search(flat):
        return "soft", infer(4, "4.3")
    if HOST_UNKNOWN.search(flat):
        return "hard", infer(5, "1.2")
    if MAILBOX_DISABLED.search(flat):
        return "hard", infer(5, "2.1")
    if USER_UNKNOWN.search(flat):
        return "hard", infer(5, "1.1")
    if MAILBOX_MOVED.search(flat):
        return "hard", infer(5, "1.6")
    if POLICY.search(flat):
        return "soft", infer(5, "7.1")
    if klass == 5 and USER_UNKNOWN_WEAK.search(flat):
        return "hard", infer(5, "1.1")
    if TEMPORARY.search(flat):
        return "soft", infer(4, _soft_detail(flat))
    if GENERIC_REFUSAL.search(flat):
        return "soft", infer(5, "7.1")
    if klass == 0 and USER_UNKNOWN_WEAK.search(flat):
        return "hard", "5.1.1"
    if subject in SOFT_SUBJECTS or detail in SOFT_STATUSES:
        return "soft", status
    if klass == 5 and code == 552 and detail in (None, "0.0"):
        return "soft", infer(5, "2.2")
    if klass == 5:
        return "hard", status or "5.0.0"
    return "soft", status


def _soft_detail(flat: str) -> str:
    """The subject.detail a transient condition most likely had."""
    if MAILBOX_FULL.search(flat):
        return "2.2"
    if MESSAGE_TOO_LARGE.search(flat):
        return "3.4"
    if GREYLISTED.search(flat):
        return "2.0"
    if RATE_LIMITED.search(flat):
        return "7.0"
    if MAIL_LOOP.search(flat):
        return "4.6"
    if DNS_TEMPORARY.search(flat) or HOST_UNKNOWN.search(flat):
        return "4.3"
    if re.search(r"expired|too long|retry time", flat):
        return "4.7"
    if re.search(r"connect|timed? ?out|unreachable|no route", flat):
        return "4.1"
    return "0.0"
