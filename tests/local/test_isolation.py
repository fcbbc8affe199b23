"""A user's packages never touch Portway's environment (issue 14: a pipeline's packages_to_install
replaced numpy 2 with 1.26 in the environment that runs Portway)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portway.cli import main
from portway.embedded.isolation import environment_key, pip_steps

pytestmark = pytest.mark.local

USER_PIPELINE = Path(__file__).with_name("user_pipeline.py")


def freeze() -> list[str]:
    return subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                          check=True).stdout.splitlines()


@pytest.fixture
def user_file(tmp_path) -> Path:
    path = tmp_path / "pipes.py"
    shutil.copyfile(USER_PIPELINE, path)
    return path


def test_pinned_packages_run_in_their_own_cached_environment_and_portway_is_unchanged(tmp_path, user_file, capsys):
    import numpy
    import pandas

    runs = tmp_path / "runs"
    before = freeze()
    assert main(["run", f"{user_file}:pinned", "--runs-dir", str(runs), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    versions = summary["outputs"]["Output"]
    assert versions.startswith("numpy 1.26.4 pandas 2.2.3 in ")  # the step saw its pins ...
    env_dir = Path(versions.split(" in ", 1)[1])
    assert env_dir.parent == runs.resolve() / ".venvs"  # ... from an environment under the runs folder
    assert freeze() == before  # ... and Portway's environment is exactly as it was
    assert numpy.__version__ != "1.26.4" and pandas.__version__ != "2.2.3"

    # Another run reuses the environment (no rebuild: the same folder, built once).
    marker = env_dir / ".portway-ready.json"
    built = marker.stat().st_mtime_ns
    assert main(["run", f"{user_file}:pinned", "--runs-dir", str(runs), "--no-cache", "--quiet"]) == 0
    assert marker.stat().st_mtime_ns == built and len(list((runs / ".venvs").iterdir())) == 2  # the env + its lock
    assert freeze() == before


def test_a_package_that_cannot_be_installed_fails_the_step_naming_it(tmp_path, user_file, capsys, monkeypatch):
    # Offline: an index nobody answers on (a closed loopback port), no retries.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    before = freeze()
    assert main(["run", f"{user_file}:unavailable", "--runs-dir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert "step 'needs-missing-package' failed" in err
    assert "could not install portway-test-no-such-package==0.0.1 into the step's isolated environment" in err
    assert "Portway's own environment was not changed" in err
    assert freeze() == before


def test_the_requirement_set_is_read_from_the_component_command():
    from tests.local.user_pipeline import PINNED_PACKAGES, versions, wait_for

    container = versions.component_spec.implementation.container
    steps = pip_steps([*container.command, *container.args])
    assert steps[0][-2:] == PINNED_PACKAGES and any(w.startswith("kfp==") for w in steps[1])
    assert environment_key(steps) == environment_key([list(s) for s in steps])
    quiet = wait_for.component_spec.implementation.container
    assert pip_steps([*quiet.command, *quiet.args]) == []  # no pip step: runs in Portway's interpreter
