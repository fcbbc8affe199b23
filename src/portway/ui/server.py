"""Running the app: bind rules and uvicorn."""

from __future__ import annotations

import ipaddress

from portway.errors import ParameterError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, trust_proxy_headers: bool) -> None:
    """Approvals are decisions with a name on them: off this machine only behind an auth proxy."""
    if not is_loopback(host) and not trust_proxy_headers:
        raise ParameterError(
            f"--host {host} would let anyone who reaches this port approve models as the server's user. "
            "Bind 127.0.0.1 (the default), or put an auth proxy such as oauth2-proxy in front and pass "
            "--trust-proxy-headers so decisions are recorded under the signed-in user.")


def serve(registry, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, trust_proxy_headers: bool = False,
          webhook: str | None = None, announce=print) -> None:
    import uvicorn

    from portway.registry import current_user
    from portway.registry.events import webhook_url
    from portway.ui.app import create_app

    check_bind(host, trust_proxy_headers)
    webhook = webhook_url(webhook)
    app = create_app(registry, trust_proxy_headers=trust_proxy_headers, webhook=webhook)
    who = "the user from X-Forwarded-Email/X-Forwarded-User" if trust_proxy_headers else current_user()
    announce(f"Portway UI on http://{host}:{port}/  (registry {registry.root_uri}; decisions recorded as {who})")
    # The proxy's X-Forwarded-For/-Proto count only when it is trusted for identity too.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", server_header=False,
                            proxy_headers=trust_proxy_headers, forwarded_allow_ips="*" if trust_proxy_headers else None)
    uvicorn.Server(config).run()
