"""`portway compile`: the pipeline as KFP IR or as an Argo Workflow / WorkflowTemplate / CronWorkflow."""

from __future__ import annotations

import sys

from portway.errors import ParameterError


def add_pipeline_arguments(parser) -> None:
    """Flags shared by `compile` and `submit`: what to compile and how."""
    from portway.compile.argo import (
        DEFAULT_ARTIFACT_ROOT,
        DEFAULT_CACHE_MAX_AGE,
        DEFAULT_SERVICE_ACCOUNT,
        DEFAULT_TEAM,
        KINDS,
    )
    from portway.config import DEFAULT_IMAGE

    parser.add_argument("--target", choices=("kfp", "argo"), required=True,
                        help="kfp: KFP IR for kfp.Client / the KFP UI; argo: plain Argo Workflows (no KFP backend)")
    parser.add_argument("--pipeline", default="continuous-training",
                        help="same as PIPELINE: continuous-training (default), hyperparameter-search, "
                             "module:attribute, path/to/file.py[:attribute] or a compiled KFP IR file")
    parser.add_argument("--image", default=None, help=f"component image (default {DEFAULT_IMAGE})")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a pipeline parameter, repeatable (argo: written into the workflow's arguments)")
    argo = parser.add_argument_group("argo target")
    argo.add_argument("--kind", choices=KINDS, default="Workflow", help="the Argo object to write")
    argo.add_argument("--schedule", default=None, help='cron schedule for --kind CronWorkflow, e.g. "0 3 * * *"')
    argo.add_argument("--timezone", default=None, help="IANA time zone of --schedule (default: the controller's)")
    argo.add_argument("--name", default=None, help="object name (Workflow: generateName prefix)")
    argo.add_argument("--namespace", default=None, help="namespace written into the object's metadata")
    argo.add_argument("--service-account", default=DEFAULT_SERVICE_ACCOUNT,
                      help=f"pods' service account (IRSA on EKS), default {DEFAULT_SERVICE_ACCOUNT}")
    argo.add_argument("--team", default=DEFAULT_TEAM, help="cost-attribution label portway.dev/team")
    argo.add_argument("--artifact-root", default=DEFAULT_ARTIFACT_ROOT, help="s3://bucket/prefix for run artifacts")
    argo.add_argument("--cache-max-age", default=DEFAULT_CACHE_MAX_AGE,
                      help=f"how long a step's cached result is reused (memoize maxAge), default {DEFAULT_CACHE_MAX_AGE}")
    argo.add_argument("--active-deadline-seconds", type=int, default=24 * 3600,
                      help="stop a run that takes longer than this (default 86400, a day)")
    argo.add_argument("--s3-secret", default=None,
                      help="Secret with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the pods (MinIO on kind); "
                           "default: the service account's IRSA role")
    argo.add_argument("--s3-endpoint", default=None, help="S3 endpoint URL for the pods (e.g. MinIO on kind)")
    argo.add_argument("--fail-on-warning", action="store_true",
                      help="exit non-zero if any KFP setting is not carried over to the Argo target")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile the pipeline to KFP IR or to an Argo Workflow",
        description="Compile the KFP-authored pipeline for Kubeflow Pipelines (IR) or for a bare Argo Workflows "
                    "install. Settings the Argo target cannot express are printed as warnings.",
    )
    add_pipeline_arguments(parser)
    parser.add_argument("pipeline_positional", nargs="?", default=None, metavar="PIPELINE",
                        help="a bundled name, module:attribute, path/to/file.py[:attribute] or a compiled KFP IR "
                             "file (default: continuous-training)")
    parser.add_argument("-o", "--output", default=None, help="file to write (default: standard output)")
    parser.set_defaults(func=_compile)


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ParameterError(f"--param {pair!r} is not NAME=VALUE.")
        params[name.strip()] = value
    return params


def compile_document(args) -> tuple[str, dict, list[str]]:
    """(kind, document(s), warnings) for the parsed flags."""
    from portway.compile.argo import ArgoOptions, convert_ir
    from portway.compile.pipelines import load_ir
    from portway.config import DEFAULT_IMAGE
    from portway.trainjob.argo import apply as apply_trainjobs

    image = args.image or DEFAULT_IMAGE
    compiled = load_ir(args.pipeline, image=image)
    if args.target == "kfp":
        if args.kind != "Workflow" or args.schedule:
            raise ParameterError("--kind and --schedule apply to --target argo; a KFP schedule is a recurring run: "
                                 "portway submit --target kfp --schedule ...")
        return "kfp", compiled, []
    options = ArgoOptions(
        image=image, kind=args.kind, name=args.name, namespace=args.namespace, schedule=args.schedule,
        timezone=args.timezone, service_account=args.service_account, team=args.team,
        artifact_root=args.artifact_root, cache_max_age=args.cache_max_age, s3_secret=args.s3_secret,
        active_deadline_seconds=args.active_deadline_seconds,
        s3_endpoint=args.s3_endpoint, parameters=parse_params(args.param),
    )
    document, warnings = convert_ir(compiled, options)
    document = apply_trainjobs(document)  # workers > 1: train as a Kubeflow Trainer TrainJob
    return args.kind, document, warnings


def report_warnings(warnings: list[str], fail: bool) -> None:
    for note in warnings:
        print(f"warning: {note}", file=sys.stderr)
    if warnings and fail:
        raise ParameterError(f"{len(warnings)} KFP setting(s) are not carried over to the Argo target "
                             "(--fail-on-warning); see the warnings above.")


def _compile(args) -> int:
    import yaml

    from portway.compile.argo import check_size
    from portway.compile.kfp_target import kfp_yaml, write_text_atomic

    if args.pipeline_positional:
        if args.pipeline not in (None, "continuous-training"):
            raise ParameterError("give the pipeline once: as PIPELINE or as --pipeline, not both.")
        args.pipeline = args.pipeline_positional
    if args.target == "kfp" and args.param:
        raise ParameterError("--param applies to --target argo; KFP takes parameters when a run is created "
                             "(portway submit --target kfp --param ...).")
    kind, document, warnings = compile_document(args)
    report_warnings(warnings, args.fail_on_warning)
    if kind == "kfp":
        text = kfp_yaml(document)
    else:
        check_size(document)
        text = yaml.safe_dump(document, sort_keys=False, width=120)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    path = write_text_atomic(args.output, text)
    what = "KFP IR (PipelineSpec + PlatformSpec)" if kind == "kfp" else f"Argo {kind}"
    print(f"wrote {path}: {what}, {len(text.encode()) / 1024:.1f} KiB"
          + (f", {len(warnings)} warning(s)" if warnings else ""))
    return 0
