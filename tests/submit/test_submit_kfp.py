"""`portway submit --target kfp` (kfp.Client) against a local server speaking the KFP v2beta1 API."""

from __future__ import annotations

import pytest
import yaml

from portway.cli import main

from .fake_servers import KfpFake

TOKEN = "kfp-test-token-1"


def submit(host: str, *args: str) -> int:
    return main(["submit", "--target", "kfp", "--host", host, "--poll-seconds", "0.01", *args])


@pytest.fixture(autouse=True)
def no_kfp_context(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # kfp.Client reads ~/.config/kfp/context.json
    monkeypatch.delenv("KF_PIPELINES_TOKEN", raising=False)


def test_creates_a_run_with_typed_parameters_and_watches_it(capsys):
    with KfpFake(token=TOKEN) as kfp:
        assert submit(kfp.url, "--token", TOKEN, "--param", "data_uri=s3://d/churn.csv", "--param", "threshold=0.85",
                      "--param", "max_depth=4", "--watch") == 0
    runs = [r for r in kfp.requests if r.method == "POST" and r.path == "/apis/v2beta1/runs"]
    assert len(runs) == 1
    run = runs[0].body
    assert run["runtime_config"]["parameters"] == {"data_uri": "s3://d/churn.csv", "threshold": 0.85, "max_depth": 4}
    # with a PlatformSpec, kfp.Client sends {"pipeline_spec": ..., "platform_spec": ...}
    assert run["pipeline_spec"]["pipeline_spec"]["pipelineInfo"]["name"] == "continuous-training"
    assert run["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in kfp.requests)
    assert [r.body["display_name"] for r in kfp.requests if r.path == "/apis/v2beta1/experiments"
            and r.method == "POST"] == ["portway"]
    out = capsys.readouterr().out
    assert "created run" in out and "SUCCEEDED" in out


def test_a_schedule_becomes_a_recurring_run(capsys):
    with KfpFake() as kfp:
        assert submit(kfp.url, "--schedule", "0 3 * * *", "--run-name", "nightly-churn") == 0
    (request,) = [r for r in kfp.requests if r.path == "/apis/v2beta1/recurringruns"]
    assert request.body["display_name"] == "nightly-churn"
    assert request.body["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * *"  # KFP's cron has seconds first
    assert request.body["pipeline_spec"]["pipeline_spec"]["pipelineInfo"]["name"] == "continuous-training"
    assert "created recurring run" in capsys.readouterr().out


def test_a_failed_run_exits_non_zero(capsys):
    with KfpFake(states=["RUNNING", "FAILED"]) as kfp:
        assert submit(kfp.url, "--watch") == 1
    assert "FAILED: task train failed" in capsys.readouterr().err


def test_submits_a_compiled_file(tmp_path):
    path = tmp_path / "ct.kfp.yaml"
    assert main(["compile", "--target", "kfp", "-o", str(path)]) == 0
    with KfpFake() as kfp:
        assert submit(kfp.url, "--file", str(path)) == 0
    (run,) = [r for r in kfp.requests if r.path == "/apis/v2beta1/runs"]
    pipeline_spec, platform_spec = yaml.safe_load_all(path.read_text())
    assert run.body["pipeline_spec"] == {"pipeline_spec": pipeline_spec, "platform_spec": platform_spec}


@pytest.mark.parametrize("setup, args, message", [
    ({"token": TOKEN}, [], "refused the credentials (401)"),
    ({"healthz_status": 403}, [], "refused the request (403): forbidden by the auth proxy"),
    ({}, ["--param", "depth=3"], "--param depth is not a parameter of continuous-training"),
    ({}, ["--param", "max_depth=deep"], "input parameter max_depth is declared NUMBER_INTEGER but got 'deep'"),
    ({}, ["--kind", "CronWorkflow"], "--kind applies to --target argo"),
])
def test_error_answers_and_bad_arguments_give_a_clear_message(setup, args, message, capsys):
    with KfpFake(**setup) as kfp:
        assert submit(kfp.url, *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unreachable_server(capsys):
    from conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert submit(url) == 1  # transient: README "Exit codes"
    assert f"cannot reach the KFP API server at {url}" in capsys.readouterr().err
