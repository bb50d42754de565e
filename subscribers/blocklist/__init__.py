"""The blocklist: addresses, whole domains and wildcard patterns that are never
mailed, imported or subscribed.

``rules`` reads what a marketer writes and turns it into SQL; ``services``
adds and removes entries; ``selectors`` pages through them and checks an
address.
"""
