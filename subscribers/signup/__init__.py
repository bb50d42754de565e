"""Public subscription forms: the hosted page and the snippet for other sites,
with spam protection that calls no third party (``challenge``: proof of work;
``throttle``: a per-IP rate limit; a honeypot field in the form itself)."""
