"""`make kind-up/kind-run/kind-down` stop at once, naming what is missing, on a machine without
docker/kind/helm/kubectl (or with docker but no engine), before touching anything."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGETS = ("kind-up", "kind-run", "kind-down")


def bin_dir(tmp_path: Path, stubs: dict[str, str]) -> Path:
    """A PATH directory with make, bash, dirname and the given stub scripts, nothing else."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("make", "bash", "dirname"):
        found = shutil.which(tool)
        if not found:
            pytest.skip(f"{tool} is not installed")
        (directory / tool).symlink_to(found)
    for name, body in stubs.items():
        stub = directory / name
        stub.write_text(f"#!{shutil.which('bash')}\n{body}\n")
        stub.chmod(0o755)
    return directory


def run_make(target: str, path: Path) -> subprocess.CompletedProcess:
    env = {"PATH": str(path), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    return subprocess.run(["make", "--no-print-directory", target], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("target", TARGETS)
def test_kind_target_names_every_missing_tool(tmp_path, target):
    result = run_make(target, bin_dir(tmp_path, {}))
    assert result.returncode != 0
    assert f"error: make {target} needs docker, kind, helm and kubectl on PATH; missing: docker kind helm kubectl." \
        in result.stderr, result.stderr
    assert "pip install" not in result.stdout  # stopped before building the venv


@pytest.mark.parametrize("target", TARGETS)
def test_kind_target_stops_when_docker_engine_is_down(tmp_path, target):
    calls = tmp_path / "calls.log"
    record = f'echo "${{0##*/}} $*" >> {calls}'
    stubs = {"docker": f'{record}\necho "Cannot connect to the Docker daemon" >&2\nexit 1',
             "kind": record, "helm": record, "kubectl": record}
    result = run_make(target, bin_dir(tmp_path, stubs))
    assert result.returncode != 0
    assert "docker is installed but its engine does not answer" in result.stderr, result.stderr
    assert calls.read_text().splitlines() == ["docker info"]  # nothing else was attempted
