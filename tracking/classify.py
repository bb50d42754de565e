"""Human or machine, decided when an event is ingested.

Opens fetched by a mail provider's image proxy (Apple Mail Privacy
Protection fetches every image of every message at delivery; Google's and
Yahoo's proxies fetch on the reader's behalf but hide who and when) and
clicks by the link scanners of corporate mail gateways (Microsoft Safe
Links, Mimecast, Barracuda, Proofpoint and the like, which fetch every link
seconds after delivery) are machines. The signals: the user agent, the
address block (Apple's), how soon after delivery, and a recipient "clicking"
every link of the message at once. Only the verdict and its reason are
kept.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

# Apple's own block; Mail Privacy Protection's proxies fetch from it.
_APPLE = ipaddress.ip_network("17.0.0.0/8")
_PROXY_AGENTS = re.compile(r"GoogleImageProxy|YahooMailProxy|ggpht\.com", re.IGNORECASE)
_SCANNER_AGENTS = re.compile(
    r"bot\b|crawler|spider|preview|scanner|barracuda|mimecast|proofpoint|symantec|"
    r"trend ?micro|forcepoint|sophos|fortinet|cisco|ironport|safelinks|microsoft office|"
    r"python-|curl/|wget/|go-http-client|java/|okhttp|headless|phantomjs|facebookexternalhit|"
    r"slackbot|linkedinbot|whatsapp",
    re.IGNORECASE,
)
# Scanners fetch within seconds of delivery; a person rarely does.
TOO_SOON_SECONDS = 10
# A recipient "clicking" this many distinct links within this window is a scanner.
EVERY_LINK_COUNT = 3
EVERY_LINK_SECONDS = 5


def network_hint(ip: str | None) -> str:
    """What the endpoint keeps of the address: which block, not the address."""
    if not ip:
        return ""
    try:
        return "apple" if ipaddress.ip_address(ip) in _APPLE else ""
    except ValueError:
        return ""


def verdict(
    *,
    kind: str,
    user_agent: str,
    network: str,
    method: str,
    occurred_at: datetime,
    sent_at: datetime | None,
) -> str:
    """Empty for a human; otherwise why a machine."""
    agent = user_agent.strip()
    if kind == "open":
        if network == "apple" or agent == "Mozilla/5.0":
            return "apple-mpp"
        if _PROXY_AGENTS.search(agent):
            return "image-proxy"
        if not agent or _SCANNER_AGENTS.search(agent):
            return "scanner-agent"
        return ""
    if method == "HEAD" or not agent or _SCANNER_AGENTS.search(agent):
        return "scanner-agent"
    if sent_at is not None and (occurred_at - sent_at).total_seconds() < TOO_SOON_SECONDS:
        return "too-soon"
    return ""
