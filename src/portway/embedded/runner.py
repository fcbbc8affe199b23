"""The embedded default: run the pipeline on this machine through kfp.local.

No cluster and no network: each step runs as a subprocess of this Python (kfp.local's
SubprocessRunner), with kfp.local's own task cache shared across runs. Everything a run
writes goes under `<runs_dir>/<run-id>/`: kfp's artifacts, the full log and summary.json.
Shared state lives beside the runs: the cache index in `<runs_dir>/.cache` and, by
default, the model registry in `<runs_dir>/registry`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from portway import __version__
from portway.embedded.timeline import StepRecord, parse_timeline
from portway.errors import InputDataError, ParameterError, PipelineFailed
from portway.names import validate_name

LOG_FILE = "pipeline.log"
SUMMARY_FILE = "summary.json"
# A copy of the evaluate step's HTML artifact, named so a browser renders it as HTML.
REPORT_FILE = "report.html"
# Isolated environments of steps that install packages, shared by runs (see isolation.py).
VENVS_DIR = ".venvs"


class StepRejectedRun(PipelineFailed):
    """A step refused its input (exit code 2): the run stops without retrying it."""

    exit_code = 2


@dataclass
class RunResult:
    run_id: str
    run_dir: str
    status: str
    seconds: float
    steps: list[StepRecord]
    parameters: dict
    metrics: dict = field(default_factory=dict)
    gate: dict = field(default_factory=dict)
    registration: dict = field(default_factory=dict)
    evaluation_uri: str = ""
    report_uri: str = ""
    reproduce: str = ""
    pipeline: str = ""
    outputs: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        document = asdict(self)
        document["steps"] = [asdict(s) for s in self.steps]
        return document


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def fingerprint(data_uri: str) -> str:
    """Content identity of the input: sha256 of a local file, ETag+size of an S3 object."""
    if data_uri.startswith("s3://"):
        from portway.objectstore import s3_client, s3_read_error, split_s3_uri

        bucket, key = split_s3_uri(data_uri)
        try:
            head = s3_client().head_object(Bucket=bucket, Key=key)
        except Exception as exc:  # botocore raises several unrelated types here
            raise s3_read_error(exc, data_uri, bucket, key) from None  # an outage exits 1, a missing object 2
        if head["ContentLength"] == 0:
            from portway.steps.process import empty_input_error

            raise empty_input_error(data_uri)
        return f"s3-etag:{head['ETag'].strip(chr(34))}:{head['ContentLength']}"
    from portway.fileio import sha256_file

    path = Path(data_uri).expanduser()
    if not path.is_file():
        raise InputDataError(f"Input data file {data_uri} does not exist.")
    return f"sha256:{sha256_file(path)}"


class _StepLogHandler(logging.StreamHandler):
    """kfp.local logs its cache hits and retries on the root logger outside its own log
    context; this handler writes them (and Python warnings, marked WARNING) into the run log
    in kfp's own line format, where Progress reads them too."""

    def __init__(self, stream):
        super().__init__(stream)
        self.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d - %(levelname)s - %(message)s", "%H:%M:%S"))


@contextlib.contextmanager
def _capture_output(log_path: Path, progress):
    """Send kfp.local's console output (and warnings) through a LogTee into the run's log
    file; the terminal gets only Progress's lines."""
    from portway.embedded.progress import LogTee

    with open(log_path, "a", buffering=1) as log_stream:
        tee = LogTee(log_stream, progress)
        root = logging.getLogger()
        handler = _StepLogHandler(tee)
        previous_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        with warnings.catch_warnings():
            # kfp.local warns that it ignores resources, GPU and kfp-kubernetes settings and that
            # the image is not used: expected here; the full text is in the log, marked WARNING.
            warnings.simplefilter("always")
            logging.captureWarnings(True)
            try:
                with contextlib.redirect_stdout(tee), contextlib.redirect_stderr(tee):
                    yield
            finally:
                tee.finish()
                logging.captureWarnings(False)
                root.removeHandler(handler)
                root.setLevel(previous_level)


def local_pipeline(name: str):
    """The pipeline a PIPELINE argument names, as `portway run` runs it: the bundled ones are
    built with the local retry backoff (a bad file should not wait minutes), anything else
    comes from the one resolver (portway.compile.pipelines)."""
    from portway.config import LOCAL_RETRY_BACKOFF_SECONDS

    if name == "continuous-training":
        from portway.pipelines.continuous_training import build_pipeline

        return build_pipeline(backoff_seconds=LOCAL_RETRY_BACKOFF_SECONDS)
    if name == "hyperparameter-search":
        from portway.pipelines.hyperparameter_search import build_search_pipeline

        return build_search_pipeline(backoff_seconds=LOCAL_RETRY_BACKOFF_SECONDS)
    from portway.compile.pipelines import load_pipeline

    return load_pipeline(name)


def group_from_data(data_uri: str) -> str:
    """The default model group: the data file's stem (churn.csv -> churn), as a safe name."""
    import re

    stem = Path(data_uri.rstrip("/").rsplit("/", 1)[-1]).name.split(".", 1)[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("._-")[:63].strip("._-")
    return validate_name(name or "model", "model group (from the data file name)")


def plan_parameters(pipeline, spec: dict, given: dict, registry_root: str) -> dict:
    """Every parameter of the run, typed: the pipeline's defaults, what the user gave, and the
    ones Portway fills when the pipeline declares them: data_uri (the bundled dataset),
    registry_root (this run's registry), model_group (from the data file's name, for the bundled
    pipelines and for a pipeline without a default of its own), then, after the checks,
    data_fingerprint (the data's content hash), code_version and a pinned champion."""
    from portway.compile.pipelines import PIPELINES
    from portway.datasets import bundled_dataset_path
    from portway.embedded.preflight import declared_parameters, run_component_checks, typed_parameters
    from portway.steps.champion import AUTO as AUTO_CHAMPION
    from portway.steps.champion import current_champion

    declared = declared_parameters(spec)
    values = dict(given)
    if "data_uri" in declared and "data_uri" not in values and declared["data_uri"].required:
        values["data_uri"] = bundled_dataset_path()
    if "registry_root" in declared and "registry_root" not in values:
        values["registry_root"] = registry_root
    data_uri = values.get("data_uri")
    if data_uri is None and "data_uri" in declared and not declared["data_uri"].required:
        data_uri = declared["data_uri"].default
    group_follows_data = spec["pipelineInfo"]["name"] in PIPELINES or (
        "model_group" in declared and declared["model_group"].required)
    if group_follows_data and "model_group" in declared and "model_group" not in values and isinstance(data_uri, str) and data_uri:
        values["model_group"] = group_from_data(data_uri)
    parameters = typed_parameters(spec, values)
    run_component_checks(pipeline, spec, parameters)
    if "data_fingerprint" in declared and not parameters.get("data_fingerprint") and parameters.get("data_uri"):
        parameters["data_fingerprint"] = fingerprint(parameters["data_uri"])
    if "code_version" in declared and not parameters.get("code_version"):
        parameters["code_version"] = __version__
    if ("champion" in declared and parameters.get("champion", AUTO_CHAMPION) == AUTO_CHAMPION
            and {"registry_root", "model_group"} <= set(parameters)):
        # Pin the champion now: as a parameter of evaluate it is part of the cache key, so
        # approving a new version makes the next run re-score instead of reusing a stale comparison.
        parameters["champion"] = current_champion(parameters["registry_root"], parameters["model_group"])
    return parameters


def run_pipeline(
    parameters: dict,
    runs_dir: str | os.PathLike = "runs",
    run_id: str | None = None,
    enable_cache: bool = True,
    pipeline=None,
    reproduce: str = "",
    progress_stream=None,
    verbose: bool = False,
) -> RunResult:
    """Run a pipeline locally (default: continuous-training). `parameters` are the pipeline's
    parameters (typed, or strings as on a command line); see plan_parameters for the rest.
    `progress_stream` gets one line per step event while the run works (verbose: and the
    steps' own lines)."""
    from kfp import local

    from portway.embedded.preflight import pipeline_spec
    from portway.embedded.progress import Progress
    from portway.embedded.step_runner import StepRejectedInput, step_runner

    if pipeline is None:
        pipeline = local_pipeline("continuous-training")
    spec = pipeline_spec(pipeline)
    runs_dir = Path(runs_dir).resolve()
    run_id = validate_name(run_id or new_run_id(), "run id")
    run_dir = runs_dir / run_id
    if run_dir.exists():
        raise InputDataError(f"Run folder {run_dir} already exists; choose another --run-id.")
    parameters = plan_parameters(pipeline, spec, parameters, str(runs_dir / "registry"))

    run_dir.mkdir(parents=True)
    log_path = run_dir / LOG_FILE
    local.init(
        # use_venv=False: steps without a pip step run in this interpreter (fast, no network);
        # steps with one run in their own cached environment (step_runner, isolation.py).
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(run_dir / "artifacts"),
        raise_on_error=True,
        enable_caching=enable_cache,
        cache_root=str(runs_dir / ".cache"),
    )
    progress = Progress(progress_stream, verbose=verbose)
    started = time.perf_counter()
    failure: BaseException | None = None
    outputs = {}
    children_before = _child_processes()
    try:
        with _capture_output(log_path, progress), step_runner(progress, runs_dir / VENVS_DIR):
            task = pipeline(**parameters)
            outputs = dict(task.outputs) if task.outputs else ({"Output": task.output} if task.output else {})
    except (RuntimeError, StepRejectedInput) as exc:  # kfp.local's way of saying a task failed; ours for exit 2
        failure = exc
    except KeyboardInterrupt:
        _stop_step_processes(children_before)
        _write_summary(run_dir, RunResult(
            run_id=run_id, run_dir=str(run_dir), status="INTERRUPTED", seconds=time.perf_counter() - started,
            steps=parse_timeline(log_path.read_text(errors="replace")), parameters=parameters, reproduce=reproduce,
            pipeline=spec["pipelineInfo"]["name"]))
        raise  # the CLI says "interrupted" and exits 130; finished steps stay in the cache
    seconds = time.perf_counter() - started
    steps = _steps(progress, log_path)
    if progress.bad_input:
        failure = failure or RuntimeError("a step refused its input")

    result = RunResult(run_id=run_id, run_dir=str(run_dir), status="FAILED" if failure else "SUCCEEDED",
                       seconds=seconds, steps=steps, parameters=parameters, reproduce=reproduce,
                       pipeline=spec["pipelineInfo"]["name"])
    if failure is None:
        _collect_outputs(result, outputs, run_dir)
    _write_summary(run_dir, result)
    if failure is not None:
        failed = [s for s in steps if s.status not in ("SUCCESS", "RUNNING")] or steps[-1:]
        step = failed[0] if failed else None
        reason = (step.error if step and step.error else str(failure).splitlines()[0])
        where = f"step '{step.name}' failed" if step else "the pipeline failed"
        if progress.bad_input:
            raise StepRejectedRun(f"Run {run_id}: {where}: {reason} (bad input: not retried; full log: {log_path})")
        raise PipelineFailed(f"Run {run_id}: {where}: {reason} (full log: {log_path})")
    return result


def _steps(progress, log_path: Path) -> list[StepRecord]:
    """One record per step as Progress saw it (a ParallelFor's iterations apart, by thread),
    with the error each failed step printed, read back from the log (by kfp's task name)."""
    errors = {s.name: s.error for s in parse_timeline(log_path.read_text(errors="replace")) if s.error}
    for record in progress.records:
        if record.status != "SUCCESS":
            record.error = errors.get(progress.task_names.get(record.name, record.name))
    return progress.records


def _collect_outputs(result: RunResult, outputs: dict, run_dir: Path) -> None:
    """The summary's figures from the pipeline's outputs: `evaluation` (an evaluate artifact:
    metrics and gate), `registration` (register's JSON) and `report` (the HTML report), when the
    pipeline returns them; every other output by value (artifacts by URI)."""
    from kfp import dsl

    for name, value in outputs.items():
        if name == "evaluation" and isinstance(value, dsl.Artifact):
            result.metrics = dict(value.metadata.get("metrics", {}))
            result.gate = dict(value.metadata.get("gate", {}))
            result.evaluation_uri = str(Path(value.uri))
        elif name == "registration" and isinstance(value, str):
            try:
                result.registration = json.loads(value)
            except ValueError:
                raise ParameterError(f"the pipeline's output 'registration' is not JSON: {value[:80]!r}.") from None
        elif name == "report" and isinstance(value, dsl.Artifact):
            result.report_uri = _copy_report(Path(value.uri), run_dir)
        elif not (name == "metrics" and isinstance(value, dsl.Metrics)):  # the evaluation's metrics, shown already
            result.outputs[name] = value.uri if isinstance(value, dsl.Artifact) else value

def _copy_report(artifact_path: Path, run_dir: Path) -> str:
    """Copy the HTML artifact (kfp names it without a suffix) into the run folder as report.html.
    A cached evaluate's artifact lives in an earlier run's folder; the copy keeps each run's own."""
    import shutil

    target = run_dir / REPORT_FILE
    shutil.copyfile(artifact_path, target)
    return str(target)


def _child_processes() -> set[int]:
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True)}


# How long a step gets to exit after SIGTERM before it is killed.
STEP_STOP_GRACE_SECONDS = 5


def _stop_step_processes(children_before: set[int]) -> None:
    """Terminate the step subprocesses this run started, so an interrupt leaves no orphans.

    kfp.local's SubprocessRunner leaves its child running when the parent is interrupted
    (Popen's context exit waits only 0.25 s after a KeyboardInterrupt); a Ctrl-C in a terminal
    reaches the step too, but a SIGINT sent to this process alone does not."""
    import psutil

    steps = [p for p in psutil.Process().children(recursive=True) if p.pid not in children_before]
    for process in steps:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(steps, timeout=STEP_STOP_GRACE_SECONDS)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=STEP_STOP_GRACE_SECONDS)


def _write_summary(run_dir: Path, result: RunResult) -> None:
    from portway.fileio import write_json_atomic

    write_json_atomic(run_dir / SUMMARY_FILE, result.to_json())


def format_summary(result: RunResult, reproduce: str = "") -> str:
    """The human summary `portway run` prints."""
    lines = [f"Run {result.run_id}: {result.status} in {result.seconds:.1f}s  ({result.run_dir})", ""]
    lines.append(f"  {'step':<14}{'status':<10}{'wall':>8}  cache")
    for step in result.steps:
        cache = "hit (reused earlier output)" if step.cached else "miss (executed)"
        retries = f", {step.attempts} attempts" if step.attempts > 1 else ""
        lines.append(f"  {step.name:<14}{step.status:<10}{step.seconds:>7.1f}s  {cache}{retries}")
    if result.metrics:
        lines.append("")
        from portway.steps.evaluate import METRIC_NAMES

        names = [n for n in METRIC_NAMES if n in result.metrics] + [n for n in result.metrics if n not in METRIC_NAMES]
        lines.append("  metrics (test split): " + "  ".join(f"{n} {result.metrics[n]:.4f}" for n in names))
    if result.gate:
        if "champion" in result.gate:
            lines.append(f"  champion: {champion_line(result.gate, result.metrics)}")
        verdict = "PASSED" if result.gate.get("passed") else "FAILED"
        lines.append(f"  gate: {verdict}: {result.gate.get('summary', '')}")
    registration = result.registration
    if registration.get("registered"):
        lines.append(
            f"  registered: {registration['group']} version {registration['version']}, "
            f"{registration['approval_status']}, {registration['artifact_uri']}"
        )
    elif registration:
        lines.append(f"  not registered: {registration.get('reason', 'the gate did not pass')}")
    for name, value in result.outputs.items():
        lines.append(f"  output {name}: {value}")
    if result.report_uri:
        lines.append(f"  report: {result.report_uri}")
    if reproduce:
        lines += ["", f"  reproduce: {reproduce}"]
    return "\n".join(lines)


def champion_line(gate: dict, metrics: dict) -> str:
    """Who the champion was and both scores on the metrics the gate compared."""
    champion = gate.get("champion")
    if not champion:
        return "none approved yet in this model group (relative rules pass)"
    if champion.get("error"):
        return champion["error"]
    compared = [c["metric"] for c in gate.get("checks", []) if "champion" in c["rule"]] or ["auc"]
    scores = "  ".join(
        f"{name} {champion['metrics'][name]:.4f} (candidate {metrics[name]:.4f})" for name in dict.fromkeys(compared)
    )
    return f"{champion['reference']}, on this run's test split: {scores}"
