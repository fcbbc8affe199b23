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
    started: float
    attempt: int = 1


class Progress:
    """Turns kfp.local's lines into one printed line per step event (thread-safe)."""

    def __init__(self, stream=None, verbose: bool = False, clock=time.perf_counter):
        self.stream = stream
        self.verbose = verbose
        self.clock = clock
        self.origin = clock()
        self.lock = threading.RLock()
        self.running: dict[str, _Running] = {}
        self.by_thread: dict[int, str] = {}
        self.exit_codes: dict[str, int] = {}
        self.retries: dict[str, int] = {}
        self.bad_input: list[str] = []

    # -- what the step runner reports --------------------------------------------------
    def current_step(self) -> str | None:
        return self.by_thread.get(threading.get_ident())

    def step_exited(self, code: int) -> None:
        step = self.current_step()
        if step is not None:
            with self.lock:
                self.exit_codes[step] = code

    def step_rejected_input(self) -> None:
        """The step exited with the bad-input code: it fails now and is not retried."""
        step = self.current_step() or "?"
        with self.lock:
            self.bad_input.append(step)
            running = self.running.pop(step, None)
            self.by_thread.pop(threading.get_ident(), None)
        took = f" in {self.clock() - running.started:.1f}s" if running else ""
        self._say(step, f"failed{took}: bad input (exit 2), not retried")

    # -- what kfp.local prints -----------------------------------------------------------
    def line(self, text: str) -> None:
        if m := _EXECUTING.match(text):
            step = m["task"]
            with self.lock:
                attempt = self.retries.get(step, 0) + 1
                self.running[step] = _Running(self.clock(), attempt)
                self.by_thread[threading.get_ident()] = step
            self._say(step, "started" if attempt == 1 else f"started (attempt {attempt})")
        elif m := _FINISHED.match(text):
            step = m["task"]
            with self.lock:
                running = self.running.pop(step, None)
                self.by_thread.pop(threading.get_ident(), None)
                code = self.exit_codes.get(step)
            took = f" in {self.clock() - running.started:.1f}s" if running else ""
            if m["status"] == "SUCCESS":
                self._say(step, f"succeeded{took}")
            else:
                self._say(step, f"failed{took}" + (f" (exit {code})" if code is not None else ""))
        elif m := _CACHE_HIT.match(text):
            self._say(m["task"], "cached (output of an earlier run)")
        elif m := _RETRY.match(text):
            step, attempt = m["task"], int(m["attempt"])
            with self.lock:
                self.retries[step] = attempt
            self._say(step, f"retrying in {float(m['delay']):.1f}s (attempt {attempt + 1} of {m['total']})")
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
