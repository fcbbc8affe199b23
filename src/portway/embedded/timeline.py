"""Per-step timing and cache status, read back from kfp.local's run log.

kfp.local reports what it does only as log lines; this module turns them into one record
per step. The line formats are those of kfp 2.17 (pinned); a test runs a real pipeline and
checks that every step is found, so a format change fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STAMP = r"^(?P<at>\d\d:\d\d:\d\d\.\d{3}) - \w+ - "
_EXECUTING = re.compile(_STAMP + r"Executing task '(?P<task>[^']+)'")
_FINISHED = re.compile(_STAMP + r"Task '(?P<task>[^']+)' finished with status (?P<status>\w+)")
_CACHE_HIT = re.compile(_STAMP + r"Task (?P<task>\S+) cache hit")
_RETRY = re.compile(_STAMP + r"Task (?P<task>\S+) failed \(attempt (?P<attempt>\d+)/(?P<total>\d+)\)")
_STEP_ERROR = re.compile(r"portway\.errors\.(?P<kind>\w+): (?P<message>.+)$")
_PYTHON_ERROR = re.compile(r"^\s*(?P<kind>[A-Za-z_.]*(?:Error|Exception)): (?P<message>.+)$")


@dataclass
class StepRecord:
    name: str
    status: str = "RUNNING"
    seconds: float = 0.0
    cached: bool = False
    attempts: int = 1
    error: str | None = None


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%H:%M:%S.%f")


def parse_timeline(log_text: str) -> list[StepRecord]:
    """Steps in the order they started (or were served from cache)."""
    steps: dict[str, StepRecord] = {}
    started: dict[str, datetime] = {}
    last_error: dict[str, str] = {}
    portway_error: set[str] = set()
    current: str | None = None
    for raw in log_text.splitlines():
        line = _ANSI.sub("", raw)
        if m := _EXECUTING.match(line):
            current = m["task"]
            steps.setdefault(current, StepRecord(current))
            started[current] = _time(m["at"])
        elif m := _FINISHED.match(line):
            record = steps.setdefault(m["task"], StepRecord(m["task"]))
            record.status = m["status"]
            if m["task"] in started:
                elapsed = _time(m["at"]) - started[m["task"]]
                if elapsed < timedelta(0):  # the run crossed midnight
                    elapsed += timedelta(days=1)
                record.seconds += elapsed.total_seconds()
            if m["status"] != "SUCCESS" and m["task"] in last_error:
                record.error = last_error[m["task"]]
            current = None
        elif m := _CACHE_HIT.match(line):
            steps[m["task"]] = StepRecord(m["task"], status="SUCCESS", cached=True)
        elif m := _RETRY.match(line):
            record = steps.setdefault(m["task"], StepRecord(m["task"]))
            record.attempts = int(m["attempt"]) + 1
        elif current is not None and (m := _STEP_ERROR.search(line)):
            last_error[current] = m["message"].strip()
            portway_error.add(current)
        elif current is not None and current not in portway_error and (m := _PYTHON_ERROR.match(line)):
            # A Portway error (the user-facing message) wins over whatever is raised after it.
            last_error[current] = f'{m["kind"]}: {m["message"].strip()}'
    for name, record in steps.items():
        # A step stopped without kfp's "finished" line (exit 2 ends its retries at once).
        if record.status == "RUNNING" and name in last_error:
            record.error = last_error[name]
    return list(steps.values())
