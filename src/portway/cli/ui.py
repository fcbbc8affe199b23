"""`portway ui`: review and approve registered models in a browser."""

from __future__ import annotations

import sys

from portway.cli.models import add_registry_argument, open_registry_from_args


def register(subparsers) -> None:
    from portway.ui.server import DEFAULT_HOST, DEFAULT_PORT

    ui = subparsers.add_parser(
        "ui", help="review, compare and approve models in a browser",
        description="Serve the registry's model groups, versions, reports and approval forms as web pages.")
    ui.add_argument("--host", default=DEFAULT_HOST,
                    help=f"address to bind (default: {DEFAULT_HOST}); another address only behind an auth proxy, "
                         "with --trust-proxy-headers")
    ui.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default: {DEFAULT_PORT})")
    ui.add_argument("--trust-proxy-headers", action="store_true",
                    help="record decisions under X-Forwarded-Email/X-Forwarded-User (set by an auth proxy such as "
                         "oauth2-proxy, which must be the only way in); without it they are ignored")
    ui.add_argument("--webhook", default=None,
                    help="also POST each decision's event to this URL (default: $PORTWAY_WEBHOOK_URL)")
    add_registry_argument(ui)
    ui.set_defaults(func=_ui)


def _ui(args) -> int:
    from portway.ui.server import check_bind, serve

    check_bind(args.host, args.trust_proxy_headers)
    serve(open_registry_from_args(args), host=args.host, port=args.port,
          trust_proxy_headers=args.trust_proxy_headers, webhook=args.webhook,
          announce=lambda text: print(text, flush=True, file=sys.stdout))
    return 0
