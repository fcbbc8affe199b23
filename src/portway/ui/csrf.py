"""CSRF protection: a token per browser session, signed with the server's secret.

The session is a random id in an HttpOnly, SameSite=Strict cookie; the token is
HMAC-SHA256(secret, session id) and goes into every form. A POST counts only when its form
carries the token of the cookie it came with. Another site can make a browser send the cookie
(same-site ports are not cross-site for SameSite), but cannot read the page to learn the
token. The secret is random per process unless $PORTWAY_UI_SECRET sets one (needed when
several replicas serve one session).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

SESSION_COOKIE = "portway_ui_session"
TOKEN_FIELD = "csrf_token"
SECRET_ENV = "PORTWAY_UI_SECRET"


def server_secret() -> bytes:
    configured = os.environ.get(SECRET_ENV)
    return configured.encode() if configured else secrets.token_bytes(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def token_for(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, session_id.encode(), hashlib.sha256).hexdigest()


def token_is_valid(secret: bytes, session_id: str | None, token: str | None) -> bool:
    if not session_id or not token:
        return False
    return hmac.compare_digest(token_for(secret, session_id), token)
