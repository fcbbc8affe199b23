"""With CI set, a missing ../shared fails the run; elsewhere its tests skip with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# One test that needs the schemas and one that needs the conformance folder.
NEEDS_SHARED = ["tests/charts/test_validation_tools.py::test_core_validation_is_strict_at_each_version",
                "tests/argo_engine_tests/test_conformance.py::test_table_covers_every_upstream_file"]


def run_without_shared(ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PORTWAY_SHARED_SCHEMAS="/nonexistent/schemas", PORTWAY_SHARED_CONFORMANCE="/nonexistent/conformance")
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *NEEDS_SHARED],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("ci", [True, False])
def test_missing_shared_fails_on_ci_and_skips_with_a_reason_elsewhere(ci):
    done = run_without_shared(ci)
    if ci:
        assert done.returncode != 0, done.stdout[-2000:]
        assert "not found" in done.stdout and "is missing" in done.stdout, done.stdout[-2000:]
        assert "skipped" not in done.stdout.splitlines()[-1], done.stdout[-2000:]
    else:
        assert done.returncode == 0, done.stdout[-2000:]
        assert "2 skipped" in done.stdout and "not found" in done.stdout, done.stdout[-2000:]
