"""Python environments the corpus runs in, built once and cached, never the project's .venv.

- `reference_python()`: the interpreter that runs kfp.local. A venv of its own whose
  site-packages come first and which sees the project's packages (kfp among them) through a
  `.pth` line after them, so a step's `pip install` lands here: pip will not uninstall a
  package outside the environment it installs into ("Not uninstalling ... outside environment",
  pip/_internal/req/req_uninstall.py), it installs the pinned version beside it and that copy wins.
- `image_environment_parts(image)`: what a container image offers a step: a venv without the
  project's site-packages, built from the same Python minor version when this machine has it,
  whose bin directory goes first on PATH.

  The pinned kfp is installed into it when it is built, so KFP's runtime install at step start
  (`pip install kfp==2.17.0 --no-deps`, run as compiled) finds it and is a no-op ("Requirement
  already satisfied"): the step is then as it is on a python:3.11 pod after that install, and
  no pod downloads kfp (a pod's HOME, hence pip's cache, is new each time). `packages_to_install`
  is not baked in: each pod installs it into its own copy-on-write view of the image
  (tests/argo_engine/pods.py), as a container does into its writable layer.

The cache lives under $PORTWAY_CORPUS_CACHE (default ~/.cache/portway-corpus); delete it to rebuild.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

KFP_VERSION = "2.17.0"
CACHE = Path(os.environ.get("PORTWAY_CORPUS_CACHE", Path.home() / ".cache" / "portway-corpus"))
# Images whose Python is a given minor version; any other image with "python" in it is 3.11.
PYTHON_IMAGES = {"python:3.11": "3.11", "python:3.12-slim": "3.12", "python:3.13": "3.13"}
# Images that ship kfp (install_kfp_package=False) and plain shell images.
KFP_RUNTIME_IMAGES = {"ghcr.io/portway-corpus/kfp-runtime:2.17.0"}
SHELL_IMAGES = {"alpine", "busybox"}


def _interpreter(minor: str) -> str:
    """This machine's Python of that minor version (pyenv's or the system's), else this one's."""
    if sys.version_info[:2] == tuple(int(p) for p in minor.split(".")):
        return getattr(sys, "_base_executable", sys.executable)
    for candidate in (*sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}.*/bin/python{minor}"))),
                      shutil.which(f"python{minor}")):
        if candidate and subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    return getattr(sys, "_base_executable", sys.executable)


def _build(target: Path, make) -> Path:
    """Build into a temporary sibling, then rename: a half-built env is never used."""
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    make(staging)
    (staging / ".complete").write_text("ok\n")
    try:
        staging.rename(target)
    except OSError:  # another session built it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _venv(path: Path, python: str) -> None:
    # venv bakes its absolute path into scripts; build in place (the staging dir is renamed,
    # so use `python -m pip`, never bin/pip).
    subprocess.run([python, "-m", "venv", str(path)], check=True)


def reference_python() -> str:
    project_site = sysconfig.get_paths()["purelib"]
    key = f"reference-py{sys.version_info[0]}{sys.version_info[1]}-kfp{KFP_VERSION}"

    def make(path: Path) -> None:
        _venv(path, getattr(sys, "_base_executable", sys.executable))
        site = next(path.glob("lib/python*/site-packages"))
        (site / "zz_project_packages.pth").write_text(project_site + "\n")

    return str(_build(CACHE / key, make) / "bin" / "python")


def image_python_env(image: str) -> Path:
    minor = PYTHON_IMAGES.get(image, "3.11")
    key = f"image-py{minor.replace('.', '')}-kfp{KFP_VERSION}"

    def make(path: Path) -> None:
        _venv(path, _interpreter(minor))
        # What `pip install kfp --no-deps` puts in a pod (and in a KFP_RUNTIME_IMAGES image);
        # with _KFP_RUNTIME=true the executor needs nothing more.
        subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", f"kfp=={KFP_VERSION}", "--no-deps"], check=True)

    return _build(CACHE / key, make)


def image_environment_parts(image: str) -> tuple[list[str], dict]:
    """(directories first on PATH, environment variables) for a step in `image`."""
    if image.split(":")[0] in SHELL_IMAGES:
        return [], {}  # sh, printf, tr from this machine: what alpine's busybox offers
    env = image_python_env(image)
    return [str(env / "bin")], {"VIRTUAL_ENV": str(env), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
