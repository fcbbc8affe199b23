"""Session fixtures of the corpus: compiled documents, the kfp.local reference, image environments.

Everything expensive is done once per session and shared: the KFP IR and Argo document of each
pipeline, the kfp.local results (one subprocess in an isolated venv, started early so it runs
while the engine runs), the image environments (cached across sessions, see envs.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from corpus.index import CASES

TESTS_DIR = Path(__file__).resolve().parents[1]


@dataclass
class Compiled:
    ir: dict  # {"pipeline_spec", "platform_spec"} as load_ir returns it
    document: dict | None  # the Argo Workflow, when the target compiled it
    refusal: str | None  # "<error class>: <message>" when the target refused it (a PortwayError)
    warnings: list[str]


def compile_case(case, out_dir: Path) -> Compiled:
    from kfp import compiler

    from portway.compile import ArgoOptions, convert_ir, load_ir
    from portway.errors import PortwayError

    path = out_dir / f"{case.name}.kfp.yaml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # kfp's base_image notice
        compiler.Compiler().compile(case.pipeline, str(path))
    ir = load_ir(str(path))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            document, messages = convert_ir(ir, ArgoOptions())
    except PortwayError as exc:  # UnsupportedFeature, or another one-line error; anything else is a crash
        return Compiled(ir, None, f"{type(exc).__name__}: {exc}", [])
    return Compiled(ir, document, None, [*messages, *(str(w.message) for w in caught)])


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> dict[str, Compiled]:
    out = tmp_path_factory.mktemp("corpus-ir")
    return {case.name: compile_case(case, out) for case in CASES}


class Reference:
    """kfp.local's results, computed in one subprocess started on first use of the fixture; each
    pipeline's result is read as soon as that subprocess has written it."""

    def __init__(self, workdir: Path):
        from corpus.envs import reference_python

        self.out = workdir / "results"
        self.log = workdir / "reference.log"
        names = [case.name for case in CASES if case.expected is None]
        env = {**os.environ, "PYTHONPATH": str(TESTS_DIR), "PYTHONWARNINGS": "ignore"}
        env.pop("VIRTUAL_ENV", None)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([reference_python(), "-m", "corpus.reference", str(self.out),
                                             str(workdir), *names], cwd=workdir, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def result(self, name: str, timeout: float = 900) -> dict:
        path = self.out / f"{name}.json"
        deadline = time.monotonic() + timeout
        while not path.exists():
            if self.process.poll() is not None and not path.exists():
                tail = self.log.read_text()[-3000:]
                raise AssertionError(f"the kfp.local reference run ended (exit {self.process.returncode}) "
                                     f"without a result for {name}; log tail:\n{tail}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no kfp.local result for {name} within {timeout:.0f} s")
            time.sleep(0.2)
        return json.loads(path.read_text())

    def finish(self) -> int:
        return self.process.wait(timeout=900)


@pytest.fixture(scope="session")
def venv_freeze_before() -> str:
    """The project venv's packages before any corpus pipeline ran (compared at the end)."""
    return pip_freeze()


def pip_freeze() -> str:
    return subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="session")
def reference(tmp_path_factory, venv_freeze_before):
    ref = Reference(tmp_path_factory.mktemp("corpus-reference"))
    yield ref
    if ref.process.poll() is None:
        ref.process.kill()  # the session stopped early (-x); the subprocess is ours
        ref.process.wait()
