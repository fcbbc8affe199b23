"""Supervise a group of worker processes that only succeed together.

`supervise` watches the processes: the first one that fails is named (its name, exit code
or signal, the last line it printed); the others get `grace` seconds to fail on their own
(they do, once their collective loses a peer) and are then killed; an overall deadline bounds
the whole. Nothing waits forever on a dead worker.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time

from portway.errors import PipelineFailed

TAIL_LINES = 12
# After one worker fails, how long the others get to stop on their own before they are killed.
FAILURE_GRACE_SECONDS = 10


class WorkerFailed(PipelineFailed):
    """A distributed training worker failed, died or timed out (exit 1: the step's retry may fix it)."""


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _pump(stream, name: str, tail: collections.deque) -> None:
    for line in iter(stream.readline, ""):
        tail.append(line.rstrip("\n"))
        print(f"[{name}] {line}", end="", flush=True)
    stream.close()


def supervise(commands: list[list[str]], envs: list[dict], names: list[str], timeout: float,
              grace: float = FAILURE_GRACE_SECONDS) -> None:
    """Run the processes to completion; raise WorkerFailed naming the first that failed."""
    procs, tails, pumps = [], [], []
    try:
        for command, env, name in zip(commands, envs, names, strict=True):
            proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True)
            tail: collections.deque = collections.deque(maxlen=TAIL_LINES)
            pump = threading.Thread(target=_pump, args=(proc.stdout, name, tail), daemon=True)
            pump.start()
            procs.append(proc)
            tails.append(tail)
            pumps.append(pump)
        deadline = time.monotonic() + timeout
        first_failure = None
        while True:
            codes = [p.poll() for p in procs]
            if first_failure is None:
                failed = [i for i, c in enumerate(codes) if c not in (None, 0)]
                if failed:
                    first_failure = failed[0]
                    deadline = min(deadline, time.monotonic() + grace)
            if all(c is not None for c in codes):
                break
            if time.monotonic() > deadline:
                stuck = [names[i] for i, c in enumerate(codes) if c is None]
                if first_failure is None:
                    _stop(procs)
                    raise WorkerFailed(f"distributed train: {', '.join(stuck)} still running after {timeout:.0f}s; "
                                       "stopped them (raise the timeout, or look for a worker that hangs).")
                break
            time.sleep(0.1)
        _stop(procs)
        for pump in pumps:
            pump.join(timeout=5)
        if first_failure is None:
            return
        i = first_failure
        last = next((line for line in reversed(tails[i]) if line.strip()), "(no output)")
        raise WorkerFailed(f"distributed train: {names[i]} (pid {procs[i].pid}) {_describe_exit(procs[i].returncode)}; "
                           f"its last line: {last[:300]}")
    finally:
        _stop(procs)


def _stop(procs: list) -> None:
    """Kill every process still running (its whole session: a node's GPU workers too)."""
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
