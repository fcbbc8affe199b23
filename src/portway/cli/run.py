"""`portway run`: the whole pipeline on this machine (the embedded default)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

# CLI flag -> pipeline parameter, with the type argparse converts to.
PIPELINE_FLAGS = {
    "target": ("--target", str, "label column"),
    "feature_types": ("--feature-types", str, 'declared feature types as JSON, e.g. \'{"age": "numeric"}\''),
    "validation_fraction": ("--validation-fraction", float, "share of rows for early stopping"),
    "test_fraction": ("--test-fraction", float, "share of rows for evaluation"),
    "seed": ("--seed", int, "seed of the split and of training"),
    "gpus": ("--gpus", int, "GPUs for train (falls back to CPU here when none is present)"),
    "max_depth": ("--max-depth", int, "XGBoost max_depth"),
    "eta": ("--eta", float, "XGBoost learning rate"),
    "subsample": ("--subsample", float, "XGBoost subsample"),
    "colsample_bytree": ("--colsample-bytree", float, "XGBoost colsample_bytree"),
    "min_child_weight": ("--min-child-weight", float, "XGBoost min_child_weight"),
    "num_boost_round": ("--num-boost-round", int, "maximum boosting rounds"),
    "early_stopping_rounds": ("--early-stopping-rounds", int, "rounds without improvement before stopping"),
    "gate_metric": ("--metric", str, "gate metric: accuracy, precision, recall, f1, auc, log_loss"),
    "threshold": ("--threshold", float, "gate threshold for --metric (>=, or <= for log_loss)"),
    "model_group": ("--model-group", str, "model package group to register into"),
    "approval_status": ("--approval-status", str, "PendingManualApproval (default), Approved or Rejected"),
}


def register(subparsers) -> None:
    run = subparsers.add_parser(
        "run",
        help="run the continuous-training pipeline locally (kfp.local, no cluster)",
        description="Run process -> train -> evaluate -> gate -> register on this machine through kfp.local.",
    )
    run.add_argument("--data", help="input CSV or Parquet: a local path or s3://bucket/key "
                                    "(default: the bundled churn dataset)")
    for dest, (flag, kind, text) in PIPELINE_FLAGS.items():
        run.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    run.add_argument("--gate", action="append", default=[], metavar="RULE",
                     help="extra gate rule, repeatable: auc>=0.85, f1>0.6, auc>=champion+0.005")
    run.add_argument("--registry", default=None, help="registry root, a directory or s3://bucket/prefix "
                                                      "(default: <runs-dir>/registry)")
    run.add_argument("--runs-dir", default="runs", help="where run folders go (default: runs)")
    run.add_argument("--run-id", default=None, help="name of this run's folder (default: time-based)")
    run.add_argument("--no-cache", action="store_true", help="execute every step even if a cached result exists")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.set_defaults(func=_run)


def reproduce_command(args) -> str:
    words = ["portway", "run", "--data", args.data]
    for dest, (flag, _, _) in PIPELINE_FLAGS.items():
        value = getattr(args, dest)
        if value is not None:
            words += [flag, str(value)]
    for rule in args.gate:
        words += ["--gate", rule]
    words += ["--registry", args.registry, "--runs-dir", args.runs_dir]
    if args.no_cache:
        words.append("--no-cache")
    return shlex.join(words)


def _run(args) -> int:
    from portway.datasets import bundled_dataset_path
    from portway.embedded.runner import format_summary, run_pipeline

    args.data = args.data or bundled_dataset_path()
    if not args.data.startswith("s3://"):
        args.data = str(Path(args.data).expanduser().resolve())
    if args.registry is None:
        args.registry = str(Path(args.runs_dir, "registry").resolve())
    elif not args.registry.startswith("s3://"):
        args.registry = str(Path(args.registry).expanduser().resolve())
    parameters = {dest: getattr(args, dest) for dest in PIPELINE_FLAGS if getattr(args, dest) is not None}
    parameters.update(data_uri=args.data, registry_root=args.registry)
    if args.gate:
        parameters["gate_rules"] = ";".join(args.gate)

    result = run_pipeline(parameters, runs_dir=args.runs_dir, run_id=args.run_id, enable_cache=not args.no_cache,
                          reproduce=reproduce_command(args))
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    else:
        print(format_summary(result, result.reproduce))
    return 0
