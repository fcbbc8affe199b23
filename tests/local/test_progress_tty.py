"""Live progress through a pseudo-terminal: a step's lines appear while it runs, not after.

The step waits for a file this test creates only after it has read the step's lines from the
terminal, so the lines cannot have come from the end of the run (no timing involved)."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.local

USER_PIPELINE = Path(__file__).with_name("user_pipeline.py")
PORTWAY = Path(sys.executable).with_name("portway")
# A bound on how long the run may take to get there: the test fails instead of hanging.
READ_LIMIT_SECONDS = 120


class Terminal:
    def __init__(self, command: list[str], cwd: Path):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, close_fds=True)
        os.close(slave)
        self.text = ""

    def read_until(self, needle: str) -> str:
        """Everything read so far, once `needle` has appeared (or the process ended)."""
        while needle not in self.text:
            ready, _, _ = select.select([self.master], [], [], READ_LIMIT_SECONDS)
            if not ready:
                self.process.kill()
                pytest.fail(f"no {needle!r} on the terminal within {READ_LIMIT_SECONDS}s; got:\n{self.text}")
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the other side closed (the process ended)
                chunk = b""
            if not chunk:
                break
            self.text += chunk.decode(errors="replace").replace("\r\n", "\n")
        return self.text


def test_step_lines_appear_on_the_terminal_while_the_step_runs(tmp_path):
    pipeline = tmp_path / "pipes.py"
    shutil.copyfile(USER_PIPELINE, pipeline)
    go = tmp_path / "go"
    terminal = Terminal([str(PORTWAY), "run", f"{pipeline}:waits", "--param", f"path={go}", "--runs-dir",
                         str(tmp_path / "runs"), "--verbose"], cwd=tmp_path)
    try:
        seen = terminal.read_until(f"| waiting for {go}")
        # The step is still running: it cannot end before `go` exists.
        assert "wait-for       started" in seen and "succeeded" not in seen and "Run " not in seen
        assert terminal.process.poll() is None
        go.touch()
        seen = terminal.read_until("reproduce:")
        assert terminal.process.wait(timeout=READ_LIMIT_SECONDS) == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
        os.close(terminal.master)
    after = seen[seen.index(f"| waiting for {go}"):]
    assert "| the file is there" in after and "wait-for       succeeded in " in after
    assert after.index("succeeded in") < after.index("SUCCEEDED")  # progress first, then the summary
    assert "\x1b[" not in seen  # no colour codes from kfp on the terminal either
