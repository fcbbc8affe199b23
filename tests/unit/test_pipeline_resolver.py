"""The one pipeline resolver (portway.compile.pipelines) that run, compile and submit share.

Issue 14: `portway compile --pipeline ./my_pipes.py:training` ended in a traceback and
`--pipeline my_pipes:training` needed PYTHONPATH=. ; both now work from the user's folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portway.compile.pipelines import load_ir, load_pipeline, read_ir_file
from portway.errors import ParameterError

PORTWAY = str(Path(sys.executable).with_name("portway"))
SOURCE = """\
from kfp import dsl


@dsl.component(base_image="python:3.11-slim")
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline(name="my-training")
def training(a: int = 1):
    add(a=a, b=2)


@dsl.pipeline(name="my-other")
def other():
    add(a=1, b=1)
"""


@pytest.fixture
def user_folder(tmp_path) -> Path:
    (tmp_path / "my_pipes.py").write_text(SOURCE)
    (tmp_path / "one_pipe.py").write_text(SOURCE.split("\n\n@dsl.pipeline(name=\"my-other\")")[0])
    return tmp_path


@pytest.mark.parametrize("spec", ["./my_pipes.py:training", "my_pipes:training"])
def test_the_users_commands_compile_from_their_folder_without_pythonpath(user_folder, spec):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([PORTWAY, "compile", "--pipeline", spec, "--target", "kfp", "-o", "out.yaml"],
                          cwd=user_folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert read_ir_file(user_folder / "out.yaml")["pipeline_spec"]["pipelineInfo"]["name"] == "my-training"


def test_a_file_with_one_pipeline_needs_no_attribute(user_folder):
    assert load_pipeline(str(user_folder / "one_pipe.py")).name == "my-training"


@pytest.mark.parametrize("spec, message", [
    ("{folder}/my_pipes.py", "defines 2 pipelines (other, training); name one"),
    ("{folder}/my_pipes.py:nope", "has no attribute 'nope'; its pipelines: other, training"),
    ("{folder}/my_pipes.py:add", "add is a PythonComponent, not a @dsl.pipeline"),
    ("{folder}/missing.py:training", "does not exist"),
    ("no_such_module_here:training", "no module named 'no_such_module_here'"),
    ("nonsense", "is not known; use one of continuous-training, hyperparameter-search"),
])
def test_mistakes_are_one_line_naming_what_was_expected(user_folder, spec, message):
    with pytest.raises(ParameterError) as caught:
        load_pipeline(spec.format(folder=user_folder))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_module_that_fails_to_import_is_named_not_a_traceback(tmp_path):
    (tmp_path / "broken.py").write_text("import no_such_dependency_xyz\n")
    with pytest.raises(ParameterError, match="importing .*broken.py failed: ModuleNotFoundError"):
        load_pipeline(f"{tmp_path}/broken.py:training")


@pytest.mark.parametrize("text, message", [
    ("a: [1, 2\n", "is not YAML"),
    ("- 1\n- 2\n", "expected a KFP IR (a PipelineSpec mapping)"),
    ("root: {}\n", "the field 'pipelineInfo' is missing"),
    ("pipelineInfo: {name: x}\nroot: {}\nnoSuchField: 1\n", "not a valid KFP IR"),
])
def test_a_malformed_ir_file_is_one_line_naming_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ParameterError) as caught:
        load_ir(str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)
