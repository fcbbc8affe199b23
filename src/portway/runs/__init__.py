"""Runs after they start: list, show, logs, watch and stop, for local runs, Argo workflows and KFP runs.

Each backend (local.py, argo.py, kfp.py) turns its own records into `Run`s with one status
vocabulary (KFP's: PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, plus UNKNOWN), keeping the
backend's own word in `native_status`, so `portway runs` prints one table and one JSON shape
whatever ran the pipeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, UNKNOWN = (
    "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
FINISHED = {SUCCEEDED, FAILED, CANCELED}


@dataclass
class Step:
    name: str
    status: str
    seconds: float | None = None
    message: str = ""
    cached: bool = False


@dataclass
class Run:
    target: str  # local | argo | kfp
    id: str
    status: str
    native_status: str
    pipeline: str = ""
    started: str = ""  # ISO 8601, UTC
    finished: str = ""
    seconds: float | None = None
    message: str = ""
    location: str = ""  # run folder, or namespace/name on a server
    steps: list[Step] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # backend-specific extras (metrics, gate, registration)

    def to_json(self) -> dict:
        return asdict(self)


def seconds_between(start: str, end: str) -> float | None:
    from datetime import datetime

    try:
        return (datetime.fromisoformat(end.replace("Z", "+00:00"))
                - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
    except (ValueError, AttributeError):
        return None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
                     for row in [header, *rows])


def runs_table(runs: list[Run]) -> str:
    """The one table `portway runs list` prints for every target."""
    return _table(["run", "status", "started", "duration", "pipeline"],
                  [[r.id, r.status, r.started[:19].replace("T", " ") or "-", _duration(r.seconds), r.pipeline or "-"]
                   for r in runs])


def run_text(run: Run) -> str:
    """`portway runs show`: the run, then one row per step."""
    lines = [f"{run.id}  {run.status}" + (f" ({run.native_status})" if run.native_status.upper() != run.status
                                          else ""),
             f"  target       {run.target}  {run.location}"]
    if run.pipeline:
        lines.append(f"  pipeline     {run.pipeline}")
    lines.append(f"  started      {run.started or '-'}")
    lines.append(f"  finished     {run.finished or '-'}  ({_duration(run.seconds)})")
    if run.message:
        lines.append(f"  message      {run.message}")
    for key, value in run.details.items():
        if value not in (None, "", {}, []):
            lines.append(f"  {key:<12} {value}")
    if run.steps:
        rows = [[s.name, s.status, _duration(s.seconds), "cached" if s.cached else "", s.message] for s in run.steps]
        lines += ["", _indent(_table(["step", "status", "wall", "cache", "message"], rows))]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
