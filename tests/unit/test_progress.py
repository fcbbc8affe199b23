"""Progress lines from kfp.local's output (kfp 2.17's formats), and the clean log beside them."""

from __future__ import annotations

import io
import threading

from portway.embedded.progress import LogTee, Progress

CYAN, GREEN, RED, RESET = "\x1b[96m", "\x1b[92m", "\x1b[91m", "\x1b[0m"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def kfp(message: str) -> str:
    return f"12:00:00.000 - INFO - {message}\n"


def test_a_step_that_fails_is_retried_then_succeeds_and_another_comes_from_the_cache():
    screen, log, clock = io.StringIO(), io.StringIO(), Clock()
    tee = LogTee(log, Progress(screen, verbose=True, clock=clock))
    tee.write(kfp(f"Executing task {CYAN}'process'{RESET}"))
    tee.write("    ")  # kfp.local's indented print writes the indent and the line separately
    tee.write("reading the file\n")
    clock.now = 1.5
    tee.write(kfp(f"Task {CYAN}'process'{RESET} finished with status {RED}FAILURE{RESET}"))
    tee.write(kfp("Task process failed (attempt 1/4). Retrying in 1.0s..."))
    clock.now = 2.5
    tee.write(kfp(f"Executing task {CYAN}'process'{RESET}"))
    clock.now = 3.0
    tee.write(kfp(f"Task {CYAN}'process'{RESET} finished with status {GREEN}SUCCESS{RESET}"))
    tee.write(kfp("Task train cache hit (key=abc); skipping execution."))
    tee.finish()
    assert screen.getvalue().splitlines() == [
        "   0.0s  process        started",
        "         process        | reading the file",
        "   1.5s  process        failed in 1.5s",
        "   1.5s  process        retrying in 1.0s (attempt 2 of 4)",
        "   2.5s  process        started (attempt 2)",
        "   3.0s  process        succeeded in 0.5s",
        "   3.0s  train          cached (output of an earlier run)",
    ]
    records = [(r.name, r.status, r.attempts, r.cached, r.seconds) for r in tee.progress.records]
    assert records == [("process", "SUCCESS", 2, False, 2.0), ("train", "SUCCESS", 1, True, 0.0)]
    assert "\x1b[" not in log.getvalue() and "Executing task 'process'" in log.getvalue()
    assert "    reading the file" in log.getvalue().splitlines()


def test_parallel_iterations_are_told_apart_by_thread_and_a_bad_input_exit_is_named():
    screen, log, clock = io.StringIO(), io.StringIO(), Clock()
    progress = Progress(screen, clock=clock)
    tee = LogTee(log, progress)
    first_started, second_done = threading.Event(), threading.Event()

    def second():
        first_started.wait()
        tee.write(kfp("Executing task 'train'"))
        tee.write(kfp("Task 'train' finished with status SUCCESS"))
        second_done.set()

    worker = threading.Thread(target=second)
    worker.start()
    tee.write(kfp("Executing task 'train'"))
    first_started.set()
    second_done.wait(10)
    worker.join(10)
    progress.step_exited(2)
    progress.step_rejected_input()
    assert screen.getvalue().splitlines() == [
        "   0.0s  train          started",
        "   0.0s  train[2]       started",
        "   0.0s  train[2]       succeeded in 0.0s",
        "   0.0s  train          failed in 0.0s: bad input (exit 2), not retried",
    ]
    assert progress.bad_input == ["train"]
    assert [(r.name, r.status) for r in progress.records] == [("train", "FAILED"), ("train[2]", "SUCCESS")]


def test_without_a_stream_nothing_is_printed_but_the_log_is_written():
    log = io.StringIO()
    tee = LogTee(log, Progress(None))
    tee.write(kfp("Executing task 'process'"))
    tee.write("partial line without newline")
    tee.finish()
    assert log.getvalue().endswith("partial line without newline\n")
