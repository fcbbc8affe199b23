"""Who is deciding: the local user on a laptop, or the user an auth proxy vouches for.

oauth2-proxy with `--pass-user-headers` (its default) sends the signed-in user upstream as
`X-Forwarded-User` and `X-Forwarded-Email`
(https://oauth2-proxy.github.io/oauth2-proxy/configuration/overview, "pass_user_headers").
Anyone can send those headers, so they count only when the server is told a proxy sets
them (`--trust-proxy-headers`) and the proxy is the only way in; otherwise they are ignored.
"""

from __future__ import annotations

# In order of preference: an email names a person unambiguously across identity providers.
PROXY_USER_HEADERS = ("x-forwarded-email", "x-forwarded-user")
MAX_IDENTITY_LENGTH = 254  # the longest valid email address (RFC 5321 path limit)


def clean_identity(value: str | None) -> str | None:
    """A header value usable as an identity in the history, or None (empty, too long, control chars)."""
    value = (value or "").strip()
    if not value or len(value) > MAX_IDENTITY_LENGTH or not value.isprintable():
        return None
    return value


def reviewer(headers, trust_proxy_headers: bool, local_user: str) -> str | None:
    """The identity a decision is recorded under; None when a trusted proxy sent none."""
    if not trust_proxy_headers:
        return local_user
    for name in PROXY_USER_HEADERS:
        identity = clean_identity(headers.get(name))
        if identity:
            return identity
    return None
