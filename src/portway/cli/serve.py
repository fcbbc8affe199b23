"""`portway serve`: a registered model over the V2 protocol on this machine (MLServer)."""

from __future__ import annotations

import sys

from portway.cli.models import add_registry_argument, open_registry_from_args


def register(subparsers) -> None:
    from portway.serving.limits import DEFAULT_MAX_REQUEST_BYTES

    serve = subparsers.add_parser(
        "serve", help="serve a registered model locally (MLServer, V2 protocol)",
        description="Serve GROUP[:VERSION|:approved] with MLServer's XGBoost runtime, as KServe does.")
    serve.add_argument("reference", help="GROUP, GROUP:VERSION, GROUP:latest or GROUP:approved")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8080, help="HTTP port (default: 8080)")
    serve.add_argument("--grpc-port", type=int, default=None, help="gRPC port (default: --port + 1)")
    serve.add_argument("--metrics-port", type=int, default=None,
                       help="Prometheus metrics port (default: --port + 2)")
    serve.add_argument("--max-request-bytes", type=int, default=DEFAULT_MAX_REQUEST_BYTES,
                       help=f"larger request bodies get HTTP 413 (default: {DEFAULT_MAX_REQUEST_BYTES})")
    serve.add_argument("--workdir", default=None,
                       help="write the MLServer model folder here and keep it (default: a temporary folder)")
    add_registry_argument(serve)
    serve.set_defaults(func=_serve)


def _serve(args) -> int:
    from portway.serving.server import serve

    serve(open_registry_from_args(args), args.reference, host=args.host, port=args.port, grpc_port=args.grpc_port,
          metrics_port=args.metrics_port, max_request_bytes=args.max_request_bytes, workdir=args.workdir,
          announce=lambda text: print(text, flush=True, file=sys.stdout))
    return 0
