"""The operations of API v1, as a test sees them."""

# Every operation of API v1; test_openapi.py checks this list against the document.
ROUTES = [
    ("GET", "/lists"),
    ("POST", "/lists"),
    ("GET", "/subscribers"),
    ("POST", "/subscribers"),
    ("GET", "/smtp-servers"),
    ("POST", "/smtp-servers"),
    ("POST", "/esp-servers"),
    ("GET", "/domain-limits"),
    ("POST", "/domain-limits"),
    ("PUT", "/domain-limits/{domain_limit_id}"),
    ("DELETE", "/domain-limits/{domain_limit_id}"),
    ("GET", "/campaigns"),
    ("POST", "/campaigns"),
    ("GET", "/campaigns/{campaign_id}"),
    ("POST", "/campaigns/{campaign_id}/test"),
    ("POST", "/campaigns/{campaign_id}/start"),
    ("POST", "/campaigns/{campaign_id}/pause"),
    ("POST", "/campaigns/{campaign_id}/resume"),
    ("POST", "/campaigns/{campaign_id}/cancel"),
]
