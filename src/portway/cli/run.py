"""`portway run [PIPELINE]`: a pipeline on this machine (the embedded default)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

# Convenience flags -> pipeline parameter, with the type argparse converts to. A flag applies
# to any pipeline that declares the parameter (the bundled ones do); --param NAME=VALUE sets any.
PIPELINE_FLAGS = {
    "target": ("--target", str, "label column"),
    "feature_types": ("--feature-types", str, 'declared feature types as JSON, e.g. \'{"age": "numeric"}\''),
    "validation_fraction": ("--validation-fraction", float, "share of rows for early stopping"),
    "test_fraction": ("--test-fraction", float, "share of rows for evaluation"),
    "seed": ("--seed", int, "seed of the split and of training"),
    "gpus": ("--gpus", int, "GPUs for train (falls back to CPU here when none is present)"),
    "workers": ("--workers", int, "XGBoost workers for train: N processes on 127.0.0.1 here, a TrainJob on a cluster"),
    "max_depth": ("--max-depth", int, "XGBoost max_depth"),
    "eta": ("--eta", float, "XGBoost learning rate"),
    "subsample": ("--subsample", float, "XGBoost subsample"),
    "colsample_bytree": ("--colsample-bytree", float, "XGBoost colsample_bytree"),
    "min_child_weight": ("--min-child-weight", float, "XGBoost min_child_weight"),
    "num_boost_round": ("--num-boost-round", int, "maximum boosting rounds"),
    "early_stopping_rounds": ("--early-stopping-rounds", int, "rounds without improvement before stopping"),
    "gate_metric": ("--metric", str, "gate metric: accuracy, precision, recall, f1, auc, log_loss"),
    "threshold": ("--threshold", float, "gate threshold for --metric (>=, or <= for log_loss)"),
    "model_group": ("--model-group", str, "model package group to register into (default: the data file's name)"),
    "approval_status": ("--approval-status", str, "PendingManualApproval (default), Approved or Rejected"),
}
# Switches -> boolean pipeline parameters.
PIPELINE_SWITCHES = {
    "new_schema": ("--new-schema", "register even though the features differ from the model group's"),
    "allow_duplicate": ("--allow-duplicate", "register even an exact duplicate of an existing version"),
}


def register(subparsers) -> None:
    run = subparsers.add_parser(
        "run",
        help="run a pipeline locally (kfp.local, no cluster); default: continuous-training",
        description="Run a pipeline on this machine through kfp.local: a bundled one (continuous-training, "
                    "hyperparameter-search), module:attribute or path/to/file.py:attribute. Steps print one line "
                    "as they start, finish, retry or come from the cache (on stderr).",
        allow_abbrev=False,
    )
    run.add_argument("pipeline", nargs="?", default="continuous-training", metavar="PIPELINE",
                     help="continuous-training (default), hyperparameter-search, module:attribute or "
                          "path/to/file.py:attribute")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a pipeline parameter (typed as the pipeline declares it), repeatable")
    run.add_argument("--data", help="input CSV or Parquet: a local path or s3://bucket/key "
                                    "(default: the bundled churn dataset)")
    for dest, (flag, kind, text) in PIPELINE_FLAGS.items():
        run.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    for dest, (flag, text) in PIPELINE_SWITCHES.items():
        run.add_argument(flag, dest=dest, action="store_true", help=text)
    run.add_argument("--gate", action="append", default=[], metavar="RULE",
                     help="extra gate rule, repeatable: auc>=0.85, f1>0.6, auc>=champion+0.005 "
                          "(a rule on the gate metric against the champion replaces the default auc>=champion)")
    run.add_argument("--registry", default=None, help="registry root, a directory or s3://bucket/prefix "
                                                      "(default: $PORTWAY_REGISTRY, else <runs-dir>/registry)")
    run.add_argument("--runs-dir", default="runs", help="where run folders go (default: runs)")
    run.add_argument("--run-id", default=None, help="name of this run's folder (default: time-based)")
    run.add_argument("--no-cache", action="store_true", help="execute every step even if a cached result exists")
    output = run.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the summary as JSON (progress stays on stderr)")
    output.add_argument("--quiet", "-q", action="store_true",
                        help="no progress; print only the result line (run id, status, folder)")
    run.add_argument("--verbose", "-v", action="store_true", help="also print each step's own log lines")
    run.set_defaults(func=_run)


def _absolute(location: str) -> str:
    return location if location.startswith("s3://") else str(Path(location).expanduser().resolve())


def reproduce_command(args) -> str:
    words = ["portway", "run"]
    if args.pipeline != "continuous-training":
        words.append(args.pipeline)
    if args.data:
        words += ["--data", args.data]
    for pair in args.param:
        words += ["--param", pair]
    for dest, (flag, _, _) in PIPELINE_FLAGS.items():
        value = getattr(args, dest)
        if value is not None:
            words += [flag, str(value)]
    for dest, (flag, _) in PIPELINE_SWITCHES.items():
        if getattr(args, dest):
            words.append(flag)
    for rule in args.gate:
        words += ["--gate", rule]
    words += ["--registry", args.registry, "--runs-dir", args.runs_dir]
    if args.no_cache:
        words.append("--no-cache")
    return shlex.join(words)


def pipeline_parameters(args, declared: set[str], pipeline_name: str) -> dict:
    """What the command line sets: --param values (strings, typed by the pipeline) and the
    convenience flags, each only for a pipeline that declares its parameter."""
    from portway.embedded.preflight import parse_assignments
    from portway.errors import ParameterError

    parameters = parse_assignments(args.param)
    given = {dest: getattr(args, dest) for dest in PIPELINE_FLAGS if getattr(args, dest) is not None}
    given.update({dest: True for dest in PIPELINE_SWITCHES if getattr(args, dest)})
    if args.data:
        given["data_uri"] = args.data
    if args.gate:
        given["gate_rules"] = ";".join(args.gate)
    flags = {**{d: f for d, (f, _, _) in PIPELINE_FLAGS.items()}, **{d: f for d, (f, _) in PIPELINE_SWITCHES.items()},
             "data_uri": "--data", "gate_rules": "--gate"}
    for dest, value in given.items():
        if dest not in declared:
            raise ParameterError(f"{flags[dest]} sets the parameter {dest}, which pipeline {pipeline_name} does not "
                                 f"have; its parameters: {', '.join(sorted(declared))}.")
        if dest in parameters:
            raise ParameterError(f"{flags[dest]} and --param {dest}=... both set {dest}; give one.")
        parameters[dest] = value
    parameters["registry_root"] = parameters.get("registry_root", args.registry)
    if "registry_root" not in declared:
        del parameters["registry_root"]
    return parameters


def _run(args) -> int:
    from portway.embedded.preflight import declared_parameters, pipeline_spec
    from portway.embedded.runner import format_summary, local_pipeline, run_pipeline

    if args.data:
        args.data = _absolute(args.data)
    args.registry = _absolute(args.registry or os.environ.get("PORTWAY_REGISTRY") or str(Path(args.runs_dir,
                                                                                                "registry")))
    pipeline = local_pipeline(args.pipeline)
    spec = pipeline_spec(pipeline)
    declared = declared_parameters(spec)
    if not args.data and "data_uri" in declared and declared["data_uri"].required and not any(
            pair.startswith("data_uri=") for pair in args.param):
        from portway.datasets import bundled_dataset_path

        args.data = bundled_dataset_path()  # named in the reproduce line, so it stays reproducible
    parameters = pipeline_parameters(args, set(declared), spec["pipelineInfo"]["name"])

    result = run_pipeline(parameters, runs_dir=args.runs_dir, run_id=args.run_id, enable_cache=not args.no_cache,
                          pipeline=pipeline, reproduce=reproduce_command(args),
                          progress_stream=None if args.quiet else sys.stderr, verbose=args.verbose)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    elif args.quiet:
        print(f"{result.run_id} {result.status} {result.run_dir}")
    else:
        print(format_summary(result, result.reproduce))
    return 0
