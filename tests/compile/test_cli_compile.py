"""`portway compile`: both targets to files or stdout, warnings, and no half-written output on errors."""

from __future__ import annotations

import pytest
import yaml
from portway.pipelines.continuous_training import continuous_training

from portway.cli import main
from portway.compile.kfp_target import compile_kfp, kfp_yaml


def test_compiles_both_targets_to_files(tmp_path, capsys):
    kfp_path, argo_path = tmp_path / "build" / "ct.kfp.yaml", tmp_path / "build" / "ct.argo.yaml"
    assert main(["compile", "--target", "kfp", "-o", str(kfp_path)]) == 0
    assert main(["compile", "--target", "argo", "-o", str(argo_path), "--param", "data_uri=s3://b/k.csv",
                 "--active-deadline-seconds", "7200"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {kfp_path}: KFP IR (PipelineSpec + PlatformSpec)" in out and f"wrote {argo_path}: Argo Workflow" in out
    assert list(yaml.safe_load_all(kfp_path.read_text())) == list(yaml.safe_load_all(kfp_yaml(
        compile_kfp(continuous_training))))
    workflow = yaml.safe_load(argo_path.read_text())
    assert workflow["kind"] == "Workflow" and workflow["spec"]["activeDeadlineSeconds"] == 7200
    assert {"name": "data_uri", "value": "s3://b/k.csv", "description": "KFP STRING"} in (
        workflow["spec"]["arguments"]["parameters"])
    assert sorted(p.name for p in kfp_path.parent.iterdir()) == ["ct.argo.yaml", "ct.kfp.yaml"]  # no temp files


def test_writes_to_standard_output_without_a_path(capsys):
    assert main(["compile", "--target", "argo", "--kind", "CronWorkflow", "--schedule", "@daily",
                 "--param", "data_uri=s3://b/k.csv"]) == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert document["kind"] == "CronWorkflow" and document["spec"]["schedules"] == ["@daily"]


def test_warnings_are_printed_and_can_fail_the_compile(tmp_path, capsys):
    path = tmp_path / "pvc.yaml"
    assert main(["compile", "--target", "argo", "--pipeline", "compile.sample_pipelines:with_an_ephemeral_volume",
                 "-o", str(path)]) == 0
    assert "warning: task 'shout': kfp-kubernetes setting 'genericEphemeralVolume' is not carried over" in capsys.readouterr().err
    strict = tmp_path / "strict.yaml"
    assert main(["compile", "--target", "argo", "--pipeline", "compile.sample_pipelines:with_an_ephemeral_volume",
                 "--fail-on-warning", "-o", str(strict)]) == 2
    assert "KFP setting(s) are not carried over" in capsys.readouterr().err
    assert not strict.exists()


@pytest.mark.parametrize("args, message", [
    (["--target", "argo", "--kind", "CronWorkflow"], "--kind CronWorkflow needs --schedule"),
    (["--target", "argo", "--kind", "CronWorkflow", "--schedule", "0 3 * * *"], "data_uri have no default"),
    (["--target", "argo", "--kind", "CronWorkflow", "--schedule", "a b c d e"], "the minute field 'a' is invalid"),
    (["--target", "argo", "--param", "num_boost_round=many"], "--param num_boost_round is declared NUMBER_INTEGER"),
    (["--target", "argo", "compile.sample_pipelines:shout", "--pipeline", "braces"], "give the pipeline once"),
    (["--target", "kfp", "--schedule", "0 3 * * *"], "a KFP schedule is a recurring run"),
    (["--target", "kfp", "--param", "x=1"], "--param applies to --target argo"),
    (["--target", "argo", "--param", "threshold"], "--param 'threshold' is not NAME=VALUE"),
    (["--target", "argo", "--pipeline", "nightly"], "pipeline 'nightly' is not known"),
    (["--target", "argo", "--pipeline", "portway.nothing:here"], "no module named 'portway.nothing'"),
    (["--target", "argo", "--pipeline", "portway.config:DEFAULT_IMAGE"], "not a @dsl.pipeline"),
    (["--target", "argo", "--name", "Bad_Name"], "--name 'Bad_Name' is not a valid Workflow name"),
])
def test_bad_arguments_exit_2_and_leave_the_output_alone(tmp_path, capsys, args, message):
    path = tmp_path / "out.yaml"
    path.write_text("previous\n")
    assert main(["compile", *args, "-o", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert path.read_text() == "previous\n"


def test_any_pipeline_compiles_from_a_python_file_or_an_ir_file(tmp_path, capsys):
    source = tmp_path / "mine.py"
    source.write_text(
        "from kfp import dsl\n\n"
        "@dsl.component(base_image='python:3.11-slim')\n"
        "def hello(name: str) -> str:\n    return 'hi ' + name\n\n"
        "@dsl.pipeline(name='mine')\n"
        "def mine(name: str = 'you'):\n    hello(name=name)\n"
    )
    ir_path, argo_path, again = tmp_path / "mine.kfp.yaml", tmp_path / "mine.argo.yaml", tmp_path / "again.argo.yaml"
    assert main(["compile", f"{source}:mine", "--target", "kfp", "-o", str(ir_path)]) == 0
    assert main(["compile", str(source), "--target", "argo", "-o", str(argo_path)]) == 0
    assert main(["compile", str(ir_path), "--target", "argo", "-o", str(again)]) == 0
    workflow = yaml.safe_load(argo_path.read_text())
    assert yaml.safe_load(again.read_text()) == workflow
    (step,) = [t for t in workflow["spec"]["templates"] if "container" in t]
    assert step["container"]["image"] == "python:3.11-slim" and "portway" not in " ".join(step["container"]["command"])
    broken = tmp_path / "broken.kfp.yaml"
    broken.write_text(ir_path.read_text().replace("pipelineInfo:", "pipelineInfx:"))
    capsys.readouterr()
    assert main(["compile", str(broken), "--target", "argo"]) == 2
    assert "'pipelineInfo' is missing" in capsys.readouterr().err
