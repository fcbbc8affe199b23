"""`portway deploy`: a registered model as a KServe InferenceService."""

from __future__ import annotations

import sys

from portway.cli.models import add_registry_argument, open_registry_from_args


def register(subparsers) -> None:
    from portway.deploy import DEFAULT_TIMEOUT_SECONDS

    deploy = subparsers.add_parser(
        "deploy", help="deploy a registered model to KServe (InferenceService)",
        description="Render charts/kserve-inference for GROUP[:VERSION|:approved], create or update the "
                    "InferenceService through the Kubernetes API, and wait until it is Ready.")
    deploy.add_argument("reference", help="GROUP:approved (the newest Approved version), GROUP:VERSION or GROUP")
    deploy.add_argument("--namespace", "-n", default="default", help="namespace (default: default)")
    deploy.add_argument("--dry-run", action="store_true", help="print the manifests; do not contact the cluster")
    deploy.add_argument("--force", action="store_true", help="deploy a version that is not Approved")
    deploy.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                        help=f"seconds to wait for Ready (default: {DEFAULT_TIMEOUT_SECONDS})")
    deploy.add_argument("--no-wait", action="store_true", help="return once the cluster accepted the objects")
    deploy.add_argument("--values", "-f", action="append", default=[], metavar="FILE",
                        help="chart values file (YAML), repeatable; later files win")
    deploy.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="chart value in Helm's --set syntax, repeatable (e.g. gpu.enabled=true)")
    deploy.add_argument("--context", default=None, help="kubeconfig context (default: the current one)")
    deploy.add_argument("--json", action="store_true",
                        help="print the result (name, model, actions, ready, url, manifests) as JSON")
    add_registry_argument(deploy)
    deploy.set_defaults(func=_deploy)


def chart_overrides(values_files: list[str], set_expressions: list[str]) -> dict:
    """Values files, then --set expressions, merged in order (Helm's precedence)."""
    from pathlib import Path

    import helm_python
    import yaml

    from portway.deploy.manifest import deep_merge
    from portway.errors import ParameterError

    merged: dict = {}
    for path in values_files:
        try:
            document = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ParameterError(f"Cannot read the values file {path}: {exc}") from None
        if not isinstance(document, dict):
            raise ParameterError(f"Values file {path} holds a {type(document).__name__}; expected a mapping.")
        merged = deep_merge(merged, document)
    for expression in set_expressions:
        try:
            merged = deep_merge(merged, helm_python.parse_set_string(expression))
        except helm_python.HelmValuesError as exc:
            raise ParameterError(f"--set {expression!r} is not understood: {exc}") from None
    return merged


def _deploy(args) -> int:
    import yaml

    from portway.deploy import deploy_model
    from portway.deploy.kube import load_api_client

    record = open_registry_from_args(args).resolve(args.reference)
    overrides = chart_overrides(args.values, args.set)
    api_client = None if args.dry_run else load_api_client(context=args.context) if args.context else None
    result = deploy_model(record, args.namespace, overrides=overrides, force=args.force, dry_run=args.dry_run,
                          timeout=args.timeout, wait=not args.no_wait, api_client=api_client,
                          say=lambda text: print(text, file=sys.stderr if text.startswith("warning") or args.json
                                                 else sys.stdout, flush=True))
    if args.json:
        from portway.cli.models import print_json

        print_json(result)
    elif args.dry_run:
        print(yaml.safe_dump_all(result["manifests"], sort_keys=False), end="")
    elif result["ready"]:
        print(f"Ready: {result['url'] or '(no URL reported)'}")
    return 0
