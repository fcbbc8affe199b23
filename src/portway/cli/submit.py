"""`portway submit`: compile and submit the pipeline to Kubeflow Pipelines or to an Argo server."""

from __future__ import annotations

from pathlib import Path

from portway.errors import ParameterError
from portway.submit import argo_namespace, argo_server_url, kfp_host, tls_verify


def register(subparsers) -> None:
    from portway.cli.compile import add_pipeline_arguments

    parser = subparsers.add_parser(
        "submit",
        help="submit the pipeline to Kubeflow Pipelines or to an Argo server",
        description="Compile the pipeline (or take --file) and submit it: a KFP run or recurring run through "
                    "kfp.Client, or an Argo Workflow / WorkflowTemplate / CronWorkflow through the Argo server API.",
    )
    add_pipeline_arguments(parser)
    if not any(action.dest == "pipeline" and not action.option_strings for action in parser._actions):
        # PIPELINE as a positional, beside the older --pipeline flag (compile's shared flags)
        parser.add_argument("pipeline_positional", nargs="?", default=None, metavar="PIPELINE",
                            help="a bundled name, module:attribute, path/to/file.py[:attribute] or a compiled "
                                 "KFP IR file (default: continuous-training)")
    parser.add_argument("--file", default=None, help="submit this compiled file instead of compiling")
    add_server_arguments(parser)
    parser.add_argument("--token", default=None, help="bearer token (default: ARGO_TOKEN / KF_PIPELINES_TOKEN)")
    parser.add_argument("--experiment", default="portway", help="KFP experiment (kfp target)")
    parser.add_argument("--run-name", default=None, help="KFP run / recurring-run name (kfp target)")
    parser.add_argument("--watch", action="store_true", help="follow the run to its end; exit non-zero if it fails")
    parser.add_argument("--poll-seconds", type=float, default=5.0, help="status poll interval with --watch")
    parser.add_argument("--timeout", type=float, default=None, help="give up watching after this many seconds")
    parser.add_argument("--json", action="store_true",
                        help="print what was created (and, with --watch, how it ended) as JSON; progress to stderr")
    parser.set_defaults(func=_submit)


def add_server_arguments(parser) -> None:
    """Where the Argo server or KFP API is, and how to trust it (shared with `portway runs`)."""
    parser.add_argument("--server", default=None,
                        help="Argo server URL, e.g. https://argo.example (argo target; default: $ARGO_SERVER)")
    parser.add_argument("--host", default=None,
                        help="KFP API URL, e.g. https://kfp.example (kfp target; default: $KF_PIPELINES_ENDPOINT)")
    parser.add_argument("--ca-cert", default=None, help="CA bundle that signs the server's certificate")
    parser.add_argument("--insecure-skip-verify", action="store_true",
                        help="do not verify TLS (test installs only; or ARGO_INSECURE_SKIP_VERIFY=true)")


def apply_server_environment(args) -> None:
    """Flags win; otherwise the variables Argo's and KFP's own tools read."""
    args.server = argo_server_url(args.server)
    args.host = kfp_host(args.host)
    args.namespace = argo_namespace(args.namespace) if args.target == "argo" else args.namespace


def _load_file(path: str) -> list[dict]:
    import yaml

    try:
        documents = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
    except FileNotFoundError:
        raise ParameterError(f"--file {path} does not exist.") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"--file {path} is not YAML: {str(exc).splitlines()[0]}.") from None
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise ParameterError(f"--file {path} holds no compiled pipeline.")
    return documents


def _submit(args) -> int:
    from portway.cli.compile import compile_document, parse_params, report_warnings

    apply_server_environment(args)
    if getattr(args, "pipeline_positional", None):
        if args.pipeline not in (None, "continuous-training"):
            raise ParameterError("give the pipeline once: as PIPELINE or as --pipeline, not both.")
        args.pipeline = args.pipeline_positional
    verify = tls_verify(args.insecure_skip_verify, args.ca_cert, args.target)
    params = parse_params(args.param)
    if args.target == "kfp":
        return _submit_kfp(args, params, verify)
    if not args.server:
        raise ParameterError("--target argo needs --server (or ARGO_SERVER), the Argo server URL "
                             "(e.g. https://argo.example).")
    if not args.namespace:
        raise ParameterError("--target argo needs --namespace (or ARGO_NAMESPACE), where the workflow runs "
                             "(e.g. --namespace ml).")
    if args.file:
        (document,) = _load_file(args.file)[:1]
        if document.get("apiVersion") != "argoproj.io/v1alpha1":
            raise ParameterError(f"--file {args.file} is not an Argo object (apiVersion {document.get('apiVersion')!r}).")
        _set_arguments(document, params)
    else:
        _, document, warnings = compile_document(args)
        report_warnings(warnings, args.fail_on_warning)
    from portway.compile.argo import check_size
    from portway.submit.argo import submit_argo

    check_size(document)
    result = submit_argo(document, args.server, args.namespace, token=args.token, verify=verify, watch=args.watch,
                         poll_seconds=args.poll_seconds, timeout_seconds=args.timeout, echo=_echo(args))
    return _result(args, {"target": "argo", "server": args.server, **result})


def _set_arguments(document: dict, params: dict[str, str]) -> None:
    spec = document.get("spec", {}).get("workflowSpec", document.get("spec", {}))
    declared = {p["name"]: p for p in spec.get("arguments", {}).get("parameters", [])}
    for name, value in params.items():
        if name not in declared:
            raise ParameterError(f"--param {name} is not a parameter of the workflow; it takes: "
                                 f"{', '.join(sorted(declared))}.")
        declared[name]["value"] = value


def _submit_kfp(args, params: dict[str, str], verify) -> int:
    from portway.compile.kfp_target import kfp_yaml, parse_strict
    from portway.submit.kfp import submit_kfp

    if not args.host:
        raise ParameterError("--target kfp needs --host (or KF_PIPELINES_ENDPOINT), the KFP API URL "
                             "(e.g. https://kfp.example).")
    if args.kind != "Workflow":
        raise ParameterError("--kind applies to --target argo; for a KFP schedule pass --schedule (a recurring run).")
    if args.file:
        documents = _load_file(args.file)
        compiled = {"pipeline_spec": documents[0], "platform_spec": documents[1] if len(documents) > 1 else None}
        if "pipelineInfo" not in compiled["pipeline_spec"]:
            raise ParameterError(f"--file {args.file} is not KFP IR (no pipelineInfo).")
        parse_strict(compiled)
    else:
        from portway.compile.pipelines import load_ir

        compiled = load_ir(args.pipeline, image=args.image)
    result = submit_kfp(kfp_yaml(compiled), compiled["pipeline_spec"], args.host, params, token=args.token,
                        verify=verify, namespace=args.namespace, experiment=args.experiment, run_name=args.run_name,
                        schedule=args.schedule, service_account=None, watch=args.watch, poll_seconds=args.poll_seconds,
                        timeout_seconds=args.timeout, echo=_echo(args))
    return _result(args, {"target": "kfp", "host": args.host, **result})


def _echo(args):
    # With --json, stdout holds only the JSON document.
    import sys

    stream = sys.stderr if args.json else sys.stdout
    return lambda text: print(text, file=stream, flush=True)


def _result(args, document: dict) -> int:
    if args.json:
        from portway.cli.models import print_json

        print_json(document)
    elif not args.watch and document.get("kind", "Workflow") == "Workflow" and (
            document.get("name") or document.get("run_id")):
        where = (f"{document['name']} --target argo -n {document['namespace']}" if document["target"] == "argo"
                 else f"{document['run_id']} --target kfp")
        print(f"follow it: portway runs watch {where}")
    return 0
