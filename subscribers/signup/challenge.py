"""A self-hosted proof-of-work challenge, in the manner of ALTCHA.

The server picks a random salt and a secret number below ``maximum``, and
hands out ``sha256(salt + number)`` with an HMAC of it. The visitor's browser
(``static/js/signup.js``) tries numbers until the hash matches: a fraction of a
second for a person, real cost for a script posting thousands of forms. The
server keeps no state until a solution comes back: the HMAC proves the
challenge is ours, the salt carries its expiry, and Redis remembers solved
challenges until they expire, so each is good for one submission.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from django.conf import settings

from postino.redis import redis_client

ALGORITHM = "SHA-256"
LIFETIME_SECONDS = 20 * 60
_USED_PREFIX = "postino:signup:pow:"


class ChallengeFailed(Exception):
    """The submission carries no valid, unused solution."""


def _key() -> bytes:
    return hashlib.sha256(f"postino-signup-pow:{settings.SECRET_KEY}".encode()).digest()


def _sign(challenge: str) -> str:
    return hmac.new(_key(), challenge.encode(), hashlib.sha256).hexdigest()


def _digest(salt: str, number: int) -> str:
    return hashlib.sha256(f"{salt}{number}".encode()).hexdigest()


def new_challenge(*, maximum: int | None = None, now: float | None = None) -> dict[str, Any]:
    limit = maximum or int(settings.POSTINO["SIGNUP_POW_MAX"])
    expires = int((time.time() if now is None else now) + LIFETIME_SECONDS)
    salt = f"{secrets.token_hex(12)}?expires={expires}"
    challenge = _digest(salt, secrets.randbelow(limit + 1))
    return {
        "algorithm": ALGORITHM,
        "challenge": challenge,
        "salt": salt,
        "maxnumber": limit,
        "signature": _sign(challenge),
    }


def solve(challenge: dict[str, Any]) -> str:
    """What the browser does, in Python: for tests and the CLI's own checks."""
    for number in range(int(challenge["maxnumber"]) + 1):
        if _digest(challenge["salt"], number) == challenge["challenge"]:
            payload = {**challenge, "number": number}
            payload.pop("maxnumber", None)
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise ValueError("no solution below maxnumber")


def verify(solution: str, *, now: float | None = None) -> None:
    """Accept a solution once, or raise ChallengeFailed saying why."""
    try:
        payload = json.loads(base64.b64decode(solution.encode(), validate=True))
        challenge = str(payload["challenge"])
        salt = str(payload["salt"])
        number = int(payload["number"])
        signature = str(payload["signature"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ChallengeFailed("the spam check did not run (is JavaScript on?)") from exc
    if payload.get("algorithm") != ALGORITHM or not hmac.compare_digest(
        signature, _sign(challenge)
    ):
        raise ChallengeFailed("the spam check's answer is not one of ours")
    _, _, expires = salt.partition("?expires=")
    if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
        raise ChallengeFailed("the page was open too long; the spam check expired")
    if not hmac.compare_digest(_digest(salt, number), challenge):
        raise ChallengeFailed("the spam check's answer is wrong")
    # One submission per challenge: a solved one cannot be replayed.
    if not redis_client().set(_USED_PREFIX + challenge, 1, nx=True, ex=LIFETIME_SECONDS):
        raise ChallengeFailed("this form was already sent; reload the page to send it again")
