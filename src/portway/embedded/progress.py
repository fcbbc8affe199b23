"""Live progress of a local run: one line per step event while the run works, clean logs.

Everything kfp.local prints (its own log lines and each step's streamed output) goes through
`LogTee`: it writes each line to `pipeline.log` without colour codes and reads kfp's lines as
they come, so `Progress` can print

      0.0s  process        started
      0.9s  process        succeeded in 0.9s
      0.9s  train          cached (output of an earlier run)
      2.1s  evaluate       failed in 1.2s (exit 1); retrying in 1.0s (attempt 2 of 3)

on the terminal (stderr, so `--json` keeps stdout for the summary). With `verbose` the step's
own lines follow, prefixed with its name. The line formats are kfp 2.17's (pinned):
kfp/local/task_dispatcher.py ("Executing task", "finished with status") and
kfp/local/orchestrator/task_executor.py ("cache hit", "failed (attempt n/m)").

kfp.local runs the iterations of a ParallelFor on up to two threads, so lines are attributed
to a step by the thread that wrote them, never by "the last step that started".
"""

from __future__ import annotations

import io
import re
import threading
import time
from dataclasses import dataclass

from portway.embedded.timeline import StepRecord

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_STAMP = r"^\d\d:\d\d:\d\d\.\d{3} - \w+ - "
_KFP_LINE = re.compile(_STAMP)
_EXECUTING = re.compile(_STAMP + r"Executing task '(?P<task>[^']+)'")
_FINISHED = re.compile(_STAMP + r"Task '(?P<task>[^']+)' finished with status (?P<status>\w+)")
_CACHE_HIT = re.compile(_STAMP + r"Task (?P<task>\S+) cache hit")
_RETRY = re.compile(_STAMP + r"Task (?P<task>\S+) failed \(attempt (?P<attempt>\d+)/(?P<total>\d+)\)\. "
                    r"Retrying in (?P<delay>[0-9.]+)s")
# kfp.local indents a step's streamed output by four spaces (logging_utils.indented_print).
_STEP_INDENT = "    "


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


@dataclass
class _Running:
    name: str  # kfp's task name
    label: str  # what the progress line says: the name, or name[n] for a ParallelFor's n-th iteration
    started: float
    attempt: int = 1
    exit_code: int | None = None
    record: StepRecord | None = None


class Progress:
    """Turns kfp.local's lines into one printed line per step event (thread-safe)."""

    def __init__(self, stream=None, verbose: bool = False, clock=time.perf_counter):
        self.stream = stream
        self.verbose = verbose
        self.clock = clock
        self.origin = clock()
        self.lock = threading.RLock()
        self.running: dict[int, _Running] = {}  # by thread
        self.retrying: dict[int, _Running] = {}  # by thread: failed, a retry announced
        self.seen: dict[str, int] = {}
        self.bad_input: list[str] = []  # task names of steps that exited 2
        # One record per step (a ParallelFor iteration is a step of its own), in the order they started.
        self.records: list[StepRecord] = []
        self.task_names: dict[str, str] = {}  # label -> kfp's task name

    def _label(self, name: str) -> str:
        self.seen[name] = self.seen.get(name, 0) + 1
        label = name if self.seen[name] == 1 else f"{name}[{self.seen[name]}]"
        self.task_names[label] = name
        return label

    def _record(self, label: str, **fields) -> StepRecord:
        record = StepRecord(label, **fields)
        self.records.append(record)
        return record

    # -- what the step runner reports --------------------------------------------------
    def current_step(self) -> str | None:
        running = self.running.get(threading.get_ident())
        return running.label if running else None

    def step_exited(self, code: int) -> None:
        with self.lock:
            running = self.running.get(threading.get_ident())
            if running is not None:
                running.exit_code = code

    def step_rejected_input(self) -> None:
        """The step exited with the bad-input code: it fails now and is not retried."""
        with self.lock:
            running = self.running.pop(threading.get_ident(), None)
            if running is not None:
                self.bad_input.append(running.name)
                if running.record is not None:
                    running.record.status = "FAILED"
                    running.record.seconds += self.clock() - running.started
        if running is not None:
            self._say(running.label, f"failed in {self.clock() - running.started:.1f}s: bad input (exit 2), "
                                     "not retried")

    # -- what kfp.local prints -----------------------------------------------------------
    def line(self, text: str) -> None:
        ident = threading.get_ident()
        if m := _EXECUTING.match(text):
            with self.lock:
                previous = self.retrying.pop(ident, None)
                if previous is not None and previous.name == m["task"]:
                    running = _Running(previous.name, previous.label, self.clock(), previous.attempt + 1,
                                       record=previous.record)
                    if running.record is not None:
                        running.record.attempts = running.attempt
                        running.record.status = "RUNNING"
                else:
                    label = self._label(m["task"])
                    running = _Running(m["task"], label, self.clock(), record=self._record(label))
                self.running[ident] = running
            self._say(running.label, "started" if running.attempt == 1 else f"started (attempt {running.attempt})")
        elif m := _FINISHED.match(text):
            with self.lock:
                running = self.running.pop(ident, None)
            label = running.label if running else m["task"]
            took = f" in {self.clock() - running.started:.1f}s" if running else ""
            if running is not None and running.record is not None:
                running.record.status = m["status"]
                running.record.seconds += self.clock() - running.started
            if m["status"] == "SUCCESS":
                self._say(label, f"succeeded{took}")
            else:
                code = running.exit_code if running else None
                self._say(label, f"failed{took}" + (f" (exit {code})" if code is not None else ""))
                if running is not None:
                    self.retrying[ident] = running
        elif m := _CACHE_HIT.match(text):
            with self.lock:
                label = self._label(m["task"])
                self._record(label, status="SUCCESS", cached=True)
            self._say(label, "cached (output of an earlier run)")
        elif m := _RETRY.match(text):
            with self.lock:
                running = self.retrying.get(ident)
            label = running.label if running else m["task"]
            self._say(label, f"retrying in {float(m['delay']):.1f}s (attempt {int(m['attempt']) + 1} of {m['total']})")
        elif self.verbose and not _KFP_LINE.match(text):
            step = self.current_step()
            if step is not None and text.strip():
                self._say(step, "| " + text.removeprefix(_STEP_INDENT), stamp=False)

    def _say(self, step: str, what: str, stamp: bool = True) -> None:
        if self.stream is None:
            return
        elapsed = f"{self.clock() - self.origin:6.1f}s" if stamp else " " * 7
        with self.lock:
            self.stream.write(f"{elapsed}  {step:<14} {what}\n")
            self.stream.flush()


class LogTee(io.TextIOBase):
    """A text stream for kfp.local's output: whole lines, colour codes removed, go to the log
    file and to `Progress`. Partial writes are kept per thread until their newline."""

    def __init__(self, log_stream, progress: Progress):
        self.log_stream = log_stream
        self.progress = progress
        self.lock = threading.Lock()
        self.partial: dict[int, str] = {}

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        ident = threading.get_ident()
        with self.lock:
            pending = self.partial.pop(ident, "") + text
            *lines, rest = pending.split("\n")
            if rest:
                self.partial[ident] = rest
            clean = [strip_ansi(line).rstrip("\r") for line in lines]
            for line in clean:
                self.log_stream.write(line + "\n")
        for line in clean:
            self.progress.line(line)
        return len(text)

    def flush(self) -> None:
        # Only the file: a partial line stays until its newline (another thread's flush must
        # not cut this thread's line in two).
        self.log_stream.flush()

    def finish(self) -> None:
        """Write out whatever partial lines remain (the run is over)."""
        with self.lock:
            for rest in self.partial.values():
                self.log_stream.write(strip_ansi(rest) + "\n")
            self.partial.clear()
            self.log_stream.flush()
