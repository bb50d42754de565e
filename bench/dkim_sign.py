"""DKIM signing rate: ``python bench/dkim_sign.py``.

Signs a typical ~20 KB newsletter (built by ``delivery.mime.build_message``,
so the same shape as campaign mail) with our signer, RSA-2048 and Ed25519,
then both at once as the pipeline does when a domain has both keys, and prints
signatures per second on one core. dkimpy's own signer runs on the same
message in the same run for comparison. Target (issue "Delivery engine at
scale"): signing must be a small share of 500+ messages/s on 2 cores.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402

from delivery import dkim  # noqa: E402
from delivery.mime import build_message, new_message_id  # noqa: E402

DOMAIN = "news.example.com"
PARAGRAPH = (
    "Spring is here, and so is our biggest update of the year: new layouts, "
    "faster sending and a few small things you asked for. Read on for the details, "
    "or jump straight to the changelog at the end of this message. "
)


def newsletter() -> bytes:
    html = "".join(
        f'<tr><td style="padding:12px 24px;font-family:Arial,sans-serif;font-size:15px">'
        f"<h2>Section {i}</h2><p>{PARAGRAPH * 2}</p>"
        f'<a href="https://{DOMAIN}/l/{i:04d}/abcdef0123456789">Read more</a></td></tr>\n'
        for i in range(28)
    )
    text = "".join(f"Section {i}\n\n{PARAGRAPH}\nhttps://{DOMAIN}/l/{i:04d}\n\n" for i in range(18))
    return build_message(
        from_header=f'"Spring News" <news@{DOMAIN}>',
        to_header='"Reader Example" <reader@example.org>',
        subject="Spring news: what\u2019s new this season",
        html=f"<html><body><table>{html}</table></body></html>",
        text=text,
        message_id=new_message_id(DOMAIN),
        extra_headers=[
            ("List-Unsubscribe", f"<https://{DOMAIN}/u/token/>, <mailto:u+token@{DOMAIN}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ],
    )


def rate(sign: Callable[[], object], seconds: float) -> float:
    sign()  # warm up
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        sign()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    args = parser.parse_args()

    message = newsletter()
    rsa_key = dkim.DkimKey(DOMAIN, "postino", dkim.RSA, dkim.generate_rsa())
    ed_key = dkim.DkimKey(DOMAIN, "postino-ed", dkim.ED25519, dkim.generate_ed25519())
    print(f"message: {len(message):,} bytes; {args.seconds:g} s per measurement, one core")

    ours = {
        "RSA-2048": [rsa_key],
        "Ed25519": [ed_key],
        "RSA-2048 + Ed25519": [rsa_key, ed_key],
    }
    results: dict[str, float] = {}
    for label, keys in ours.items():
        results[label] = rate(partial(dkim.sign, message, keys), args.seconds)
        print(f"  postino  {label:<20} {results[label]:>9,.0f} messages/s")

    try:
        import dkim as dkimpy
    except ImportError:
        print("  dkimpy not installed (pip install -e '.[dev]'): no comparison")
        return
    include = [h.encode() for h in dkim.SIGNED_HEADERS]
    rsa_pem = dkim.private_key_pem(rsa_key.private_key).encode()
    ed_seed = base64.b64encode(
        ed_key.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    )
    theirs = {
        "RSA-2048": (b"postino", rsa_pem, b"rsa-sha256"),
        "Ed25519": (b"postino-ed", ed_seed, b"ed25519-sha256"),
    }
    for label, (selector, private, algorithm) in theirs.items():
        their_sign = partial(
            dkimpy.sign,
            message,
            selector,
            DOMAIN.encode(),
            private,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=include,
            signature_algorithm=algorithm,
        )
        per_second = rate(their_sign, args.seconds)
        print(
            f"  dkimpy   {label:<20} {per_second:>9,.0f} messages/s"
            f"  (ours is {results[label] / per_second:.1f}x)"
        )


if __name__ == "__main__":
    main()
