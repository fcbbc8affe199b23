"""Local runs: the folders `portway run` writes under its runs directory.

A run folder (portway.embedded.runner) holds `pipeline.log` from the start and `summary.json`
once the run ends (SUCCEEDED, FAILED or INTERRUPTED). While the run works, the `portway run`
process keeps `pipeline.log` open, which is how a running run and its process are found; the
steps so far are read from the log with the runner's own parser (embedded/timeline.py). A
folder with neither a summary nor a process was killed or crashed (rerun it to resume from cache).
Stopping sends the process SIGINT, exactly a Ctrl-C: it stops its steps, writes an
INTERRUPTED summary and exits 130.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from portway.errors import ParameterError, PipelineFailed
from portway.runs import CANCELED, FAILED, FINISHED, RUNNING, SUCCEEDED, UNKNOWN, Run, Step
from portway.submit import StillRunning

STATUS = {"SUCCEEDED": SUCCEEDED, "FAILED": FAILED, "INTERRUPTED": CANCELED}
STEP_STATUS = {"SUCCESS": SUCCEEDED, "FAILURE": FAILED, "RUNNING": RUNNING, "SKIPPED": "SKIPPED"}
# kfp.local's first line of a run (kfp/local/pipeline_orchestrator.py, kfp 2.17)
PIPELINE_LINE = re.compile(r"Running pipeline: '([^']+)'")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colour codes older kfp.local logs hold
# How long `runs stop` waits for the run to write its summary after SIGINT (it gives its steps 5 s).
STOP_WAIT_SECONDS = 30.0


def _files():
    from portway.embedded.runner import LOG_FILE, SUMMARY_FILE

    return LOG_FILE, SUMMARY_FILE


def run_folders(runs_dir: str | os.PathLike) -> list[Path]:
    """Every run folder, newest first (run ids start with their UTC start time)."""
    root = Path(runs_dir)
    if not root.is_dir():
        raise ParameterError(f"No runs folder at {root} (--runs-dir): `portway run` creates it with its first run.")
    log_file, summary_file = _files()
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
               and ((p / log_file).exists() or (p / summary_file).exists())]
    return sorted(folders, key=lambda p: (_started(p), p.name), reverse=True)


def _started(folder: Path) -> str:
    return _id_time(folder.name) or datetime.fromtimestamp(folder.stat().st_mtime, UTC).isoformat().replace(
        "+00:00", "Z")


def _id_time(run_id: str) -> str:
    try:
        return datetime.strptime(run_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    except ValueError:
        return ""


def find_folder(runs_dir: str | os.PathLike, run_id: str) -> Path:
    from portway.names import validate_name

    folder = Path(runs_dir) / validate_name(run_id, "run id")
    if not folder.is_dir():
        known = [p.name for p in run_folders(runs_dir)[:5]]
        raise ParameterError(f"No run {run_id!r} in {Path(runs_dir).resolve()}"
                             + (f"; the newest: {', '.join(known)}." if known else "; it holds no runs."))
    return folder


def run_process(folder: Path):
    """The `portway run` process that has this run's log open, or None."""
    import psutil

    log = str((folder / _files()[0]).resolve())
    me = os.getpid()
    for process in psutil.process_iter(["pid"]):
        if process.pid == me:
            continue
        try:
            if any(f.path == log for f in process.open_files()):
                return process
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return None


def read_run(folder: Path, with_steps: bool = True) -> Run:
    from portway.embedded.timeline import parse_timeline
    from portway.steps.evaluate import METRIC_NAMES

    log_file, summary_file = _files()
    started = _started(folder)
    summary = None
    if (folder / summary_file).is_file():
        try:
            summary = json.loads((folder / summary_file).read_text())
        except ValueError:
            summary = None
    if summary is not None:
        native = str(summary.get("status", "?"))
        steps = [Step(name=s["name"], status=STEP_STATUS.get(s.get("status"), s.get("status", "?")),
                      seconds=s.get("seconds"), message=s.get("error") or "", cached=bool(s.get("cached")))
                 for s in summary.get("steps", [])]
        registration = summary.get("registration") or {}
        metrics = summary.get("metrics") or {}
        order = [n for n in METRIC_NAMES if n in metrics] + [n for n in metrics if n not in METRIC_NAMES]
        details = {"metrics": "  ".join(f"{n} {metrics[n]:.4f}" for n in order if isinstance(metrics[n], int | float)),
                   "gate": (summary.get("gate") or {}).get("summary", ""),
                   "registered": (f"{registration['group']}:{registration['version']}"
                                  if registration.get("registered") else registration.get("reason", "")),
                   "report": summary.get("report_uri", ""), "reproduce": summary.get("reproduce", "")}
        seconds = summary.get("seconds")
        finished = ""
        if started and seconds is not None:
            finished = datetime.fromtimestamp(
                datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp() + seconds, UTC,
            ).isoformat(timespec="seconds").replace("+00:00", "Z")
        return Run(target="local", id=folder.name, status=STATUS.get(native, UNKNOWN), native_status=native,
                   pipeline=summary.get("pipeline") or "", started=started, finished=finished, seconds=seconds,
                   location=str(folder.resolve()), steps=steps, details=details)
    steps, pipeline = [], ""
    if (folder / log_file).is_file():
        text = (folder / log_file).read_text(errors="replace")
        pipeline = next(iter(PIPELINE_LINE.findall(ANSI.sub("", text[:4096]))), "")
        if with_steps:
            steps = [Step(name=s.name, status=STEP_STATUS.get(s.status, s.status), seconds=s.seconds,
                          message=s.error or "", cached=s.cached) for s in parse_timeline(text)]
    process = run_process(folder)
    if process is not None:
        return Run(target="local", id=folder.name, status=RUNNING, native_status=f"running (pid {process.pid})",
                   pipeline=pipeline, started=started, seconds=time.time() - process.create_time(),
                   location=str(folder.resolve()), steps=steps)
    return Run(target="local", id=folder.name, status=UNKNOWN, native_status="no summary", pipeline=pipeline,
               started=started, location=str(folder.resolve()), steps=steps,
               message="no summary.json and no process: the run was killed or crashed; rerun its command to "
                       "resume from the cache")


def list_runs(runs_dir, limit: int | None = None, pipeline: str | None = None) -> list[Run]:
    runs = []
    for folder in run_folders(runs_dir):
        run = read_run(folder, with_steps=False)
        if not pipeline or run.pipeline == pipeline:
            runs.append(run)
            if limit and len(runs) >= limit:
                break
    return runs


def show_run(runs_dir, run_id: str) -> Run:
    return read_run(find_folder(runs_dir, run_id))


def logs(runs_dir, run_id: str) -> str:
    folder = find_folder(runs_dir, run_id)
    log = folder / _files()[0]
    if not log.is_file():
        raise ParameterError(f"run {run_id} has no {log.name} in {folder}.")
    return ANSI.sub("", log.read_text(errors="replace"))


def watch(runs_dir, run_id: str, poll_seconds: float, timeout_seconds: float | None,
          echo: Callable[[str], None]) -> Run:
    """Follow a run to its end, printing each step's status as it changes; raises PipelineFailed
    when it ends otherwise than SUCCEEDED."""
    folder = find_folder(runs_dir, run_id)
    started = time.monotonic()
    seen: dict[str, str] = {}
    while True:
        run = read_run(folder)
        for step in run.steps:
            state = step.status + (" (cached)" if step.cached else "")
            if seen.get(step.name) != state:
                seen[step.name] = state
                echo(f"  {step.name}: {state}" + (f" ({step.message})" if step.message else ""))
        if run.status in FINISHED or run.status == UNKNOWN:
            return finish(run, f"run {run_id}")
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise StillRunning(f"run {run_id} is still {run.status} after {timeout_seconds:.0f}s (--timeout).")
        time.sleep(poll_seconds)


def finish(run: Run, label: str) -> Run:
    """Return a succeeded run; raise PipelineFailed (exit 1) naming the failed steps otherwise."""
    if run.status == SUCCEEDED:
        return run
    failed = [s.name for s in run.steps if s.status == FAILED]
    where = f"; failed step(s): {', '.join(failed)}" if failed else ""
    raise PipelineFailed(f"{label} {run.native_status}{': ' + run.message if run.message else ''}{where}.")


def stop(runs_dir, run_id: str, echo: Callable[[str], None], wait_seconds: float = STOP_WAIT_SECONDS) -> Run:
    """Interrupt a running run as Ctrl-C does and wait for its INTERRUPTED summary."""
    import psutil

    folder = find_folder(runs_dir, run_id)
    process = run_process(folder)
    if process is None:
        run = read_run(folder, with_steps=False)
        echo(f"run {run_id} is not running ({run.native_status}); nothing to stop.")
        return run
    if _ignores_sigint(process.pid):
        # Started in the background by a shell without job control: SIGINT is ignored, so the run
        # cannot stop itself cleanly. End its steps and then it; the cache keeps finished steps.
        echo(f"run {run_id} (pid {process.pid}) ignores SIGINT (started in the background); terminating it "
             "and its steps, without a summary ...")
        _terminate_tree(process, wait_seconds)
    else:
        echo(f"stopping run {run_id} (pid {process.pid}) ...")
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=wait_seconds)
        except psutil.TimeoutExpired:
            raise StillRunning(f"run {run_id} (pid {process.pid}) did not stop within {wait_seconds:.0f}s of "
                               f"SIGINT; `kill {process.pid}` ends it.") from None
        except psutil.NoSuchProcess:
            pass
    run = read_run(folder)
    echo(f"run {run_id}: {run.native_status}")
    return run


def _ignores_sigint(pid: int) -> bool:
    """From the SigIgn mask in /proc/PID/status (proc(5)); False where that cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except (OSError, ValueError, IndexError):
        pass
    return False


def _terminate_tree(process, wait_seconds: float) -> None:
    import psutil

    with contextlib.suppress(psutil.NoSuchProcess):
        tree = [*process.children(recursive=True), process]
        for each in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                each.terminate()
        _, alive = psutil.wait_procs(tree, timeout=min(wait_seconds, 10))
        for each in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                each.kill()


class Local:
    """The local runs under one runs folder, with the interface of runs.argo.Argo and runs.kfp.Kfp."""

    def __init__(self, runs_dir: str | os.PathLike):
        self.runs_dir = runs_dir

    def list_runs(self, limit: int | None = None, pipeline: str | None = None) -> list[Run]:
        return list_runs(self.runs_dir, limit, pipeline)

    def show_run(self, run_id: str) -> Run:
        return show_run(self.runs_dir, run_id)

    def logs(self, run_id: str, follow: bool = False) -> list[dict]:
        return [{"podName": "", "content": line} for line in logs(self.runs_dir, run_id).splitlines()]

    def watch(self, run_id: str, poll_seconds: float, timeout_seconds: float | None,
              echo: Callable[[str], None]) -> Run:
        return watch(self.runs_dir, run_id, poll_seconds, timeout_seconds, echo)

    def stop(self, run_id: str, echo: Callable[[str], None]) -> Run:
        return stop(self.runs_dir, run_id, echo)
