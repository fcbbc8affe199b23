"""Isolated environments for steps that install packages: Portway's own is never touched.

A KFP lightweight component with `packages_to_install` (or `install_kfp_package`, the
default) carries `python3 -m pip install ...` in its command. kfp.local's
`SubprocessRunner(use_venv=False)` runs that pip in the running interpreter, i.e. in
Portway's environment (kfp/local/subprocess_task_handler.py: `environment()` yields
sys.executable), and `use_venv=True` builds a fresh venv (and upgrades pip and setuptools
from the network) for every execution. Here a step with a pip step runs with the Python of
a venv built once per requirement set and cached under `<runs>/.venvs/<key>/`, reused across
runs; the step's own pip line then finds everything installed and does nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from portway.errors import PortwayError

VENVS_DIR = ".venvs"
READY_MARKER = ".portway-ready.json"
# `pip install ARGS` up to the next `&&` or end of line (KFP joins its pip steps with `&&`; a `;`
# may belong to a requirement's environment marker).
_PIP_INSTALL = re.compile(r"pip3?\s+install\s+(?P<args>[^&\n]*)")
_PIP_ERROR = re.compile(r"(?:No matching distribution found for|Could not find a version that satisfies the "
                        r"requirement|Could not install packages due to an \w+:?|ERROR: Invalid requirement:)"
                        r"\s*(?P<what>.*)")


class StepEnvironmentError(PortwayError):
    """A step's packages could not be installed into its isolated environment."""

    exit_code = 1  # offline is often temporary: a retry may succeed


def pip_steps(full_command: list[str]) -> list[list[str]]:
    """The argument lists of every `pip install` in a step's command (empty: no pip step)."""
    steps = []
    for part in full_command:
        for match in _PIP_INSTALL.finditer(part):
            try:
                words = shlex.split(match["args"])
            except ValueError:
                words = match["args"].split()
            if words:
                steps.append(words)
    return steps


def requirement_names(steps: list[list[str]]) -> list[str]:
    return [word for words in steps for word in words if not word.startswith("-")]


def environment_key(steps: list[list[str]]) -> str:
    """One environment per requirement set and Python version."""
    identity = json.dumps({"python": list(sys.version_info[:3]), "pip": steps}, sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _failed_package(output: str, steps: list[list[str]]) -> str:
    for line in output.splitlines():
        if m := _PIP_ERROR.search(line):
            words = m["what"].split()
            if words:
                return words[0].rstrip(".:")  # the requirement, without pip's "(from versions: none)"
    return ", ".join(requirement_names(steps))


def isolated_python(steps: list[list[str]], envs_root: str | os.PathLike, echo=None) -> Path:
    """The Python of the cached environment that holds `steps`' packages, built if missing.

    Raises StepEnvironmentError naming the package pip could not install."""
    envs_root = Path(envs_root)
    key = environment_key(steps)
    env_dir = envs_root / key
    python = env_dir / "bin" / "python"
    with _locked(envs_root / f"{key}.lock"):
        if (env_dir / READY_MARKER).is_file():
            return python
        shutil.rmtree(env_dir, ignore_errors=True)  # a build an interrupt left half-done
        if echo:
            echo(f"building an isolated environment for {' '.join(requirement_names(steps))} in {env_dir}")
        import venv

        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        for words in steps:
            done = subprocess.run(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *words],
                capture_output=True, text=True, env={**os.environ, "PIP_REQUIRE_VIRTUALENV": "1"},
            )
            if done.returncode != 0:
                shutil.rmtree(env_dir, ignore_errors=True)
                output = done.stdout + done.stderr
                raise StepEnvironmentError(
                    f"could not install {_failed_package(output, steps)} into the step's isolated environment "
                    f"(pip install {shlex.join(words)} exited {done.returncode}; offline, or no such version?); "
                    "Portway's own environment was not changed."
                )
        (env_dir / READY_MARKER).write_text(json.dumps({"pip": steps}, indent=2))
    return python
