"""API v1 endpoints, one router per resource. Each parses, then calls one service."""
