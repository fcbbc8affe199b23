"""`portway submit --target argo` against a local server speaking the Argo server API."""

from __future__ import annotations

import pytest

from portway.cli import main

from .fake_servers import ArgoFake

TOKEN = "argo-test-token-1"


def submit(server: str, *args: str) -> int:
    return main(["submit", "--target", "argo", "--server", server, "--namespace", "ml", "--poll-seconds", "0.01",
                 *args])


def test_creates_a_compiled_workflow_and_watches_it_succeed(capsys):
    with ArgoFake(token=TOKEN) as argo:
        assert submit(argo.url, "--token", TOKEN, "--watch", "--param", "data_uri=s3://d/churn.csv",
                      "--team", "fraud") == 0
    out = capsys.readouterr().out
    create = argo.requests[0]
    assert (create.method, create.path) == ("POST", "/api/v1/workflows/ml")
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    workflow = create.body["workflow"]
    assert workflow["kind"] == "Workflow" and workflow["metadata"]["labels"]["portway.dev/team"] == "fraud"
    arguments = {p["name"]: p.get("value") for p in workflow["spec"]["arguments"]["parameters"]}
    assert arguments["data_uri"] == "s3://d/churn.csv"
    name = next(iter(argo.objects))[2]
    assert f"created Workflow ml/{name}" in out and f"workflow ml/{name} Succeeded" in out
    assert "  train: Running" in out and "  train: Succeeded" in out
    assert [r.path for r in argo.requests[1:]] == [f"/api/v1/workflows/ml/{name}"] * 3


def test_a_failed_run_exits_non_zero_naming_the_failed_step(capsys):
    with ArgoFake(phases=["Running", "Failed"]) as argo:
        assert submit(argo.url, "--watch") == 1
    err = capsys.readouterr().err
    assert "workflow ml/continuous-training-" in err and "Failed: child" in err
    assert "failed step(s): train" in err and "portway runs logs continuous-training-" in err


def test_without_watch_it_says_how_to_follow_the_run(capsys):
    with ArgoFake() as argo:
        assert submit(argo.url) == 0
    name = next(iter(argo.objects))[2]
    assert f"follow it: portway runs watch {name} --target argo -n ml" in capsys.readouterr().out


def test_a_cron_workflow_for_scheduled_retraining(capsys):
    with ArgoFake() as argo:
        cron = ["--kind", "CronWorkflow", "--schedule", "0 3 * * *", "--param", "data_uri=s3://d/churn.csv"]
        assert submit(argo.url, *cron) == 0
        assert submit(argo.url, *cron) == 2  # already there
    request = argo.requests[0]
    assert request.path == "/api/v1/cron-workflows/ml"
    assert request.body["cronWorkflow"]["spec"]["schedules"] == ["0 3 * * *"]
    assert "already exists in namespace 'ml'" in capsys.readouterr().err


def test_submits_a_compiled_file_and_a_workflow_template(tmp_path):
    path = tmp_path / "ct.argo.yaml"
    assert main(["compile", "--target", "argo", "--kind", "WorkflowTemplate", "-o", str(path)]) == 0
    with ArgoFake() as argo:
        assert submit(argo.url, "--file", str(path), "--param", "threshold=0.9") == 0
    request = argo.requests[0]
    assert request.path == "/api/v1/workflow-templates/ml"
    arguments = {p["name"]: p.get("value") for p in request.body["template"]["spec"]["arguments"]["parameters"]}
    assert arguments["threshold"] == "0.9"


@pytest.mark.parametrize("setup, args, message", [
    ({"token": TOKEN}, [], "refused the credentials (401): token not valid"),
    ({"token": TOKEN}, ["--token", "wrong"], "Pass a token with --token or ARGO_TOKEN"),
    ({"forbidden": ("ml",)}, [], "refused the request (403) in namespace 'ml'"),
    ({"namespaces": ("other",)}, [], "namespace 'ml' does not exist on the Argo server"),
])
def test_error_answers_give_a_clear_message(setup, args, message, capsys):
    with ArgoFake(**setup) as argo:
        assert submit(argo.url, *args) == 2
    err = capsys.readouterr().err
    assert message in err and argo.url in err and "Traceback" not in err


def test_a_server_error_and_an_unreachable_server_are_transient(capsys):
    """Exit 1 (try again later), not 2 (bad input): README "Exit codes"."""
    with ArgoFake() as argo:
        argo.fail_with = 500
        assert submit(argo.url) == 1
        assert "answered 500: etcdserver: request timed out" in capsys.readouterr().err
    from conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert submit(url) == 1
    assert f"cannot reach the Argo server at {url}" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--server", "argo.example"], "--server 'argo.example' needs a scheme"),
    (["--kind", "CronWorkflow", "--schedule", "0 3 * * *", "--param", "data_uri=s3://d/c.csv", "--watch"],
     "--watch follows a Workflow run"),
    (["--file", "/nonexistent/ct.yaml"], "--file /nonexistent/ct.yaml does not exist"),
])
def test_bad_submit_arguments(args, message, capsys):
    with ArgoFake() as argo:
        code = main(["submit", "--target", "argo", "--server", argo.url, "--namespace", "ml", *args])
    assert code == 2 and message in capsys.readouterr().err


def test_namespace_and_server_are_required(capsys):
    assert main(["submit", "--target", "argo", "--namespace", "ml"]) == 2
    assert "--target argo needs --server" in capsys.readouterr().err
    assert main(["submit", "--target", "argo", "--server", "http://127.0.0.1:1"]) == 2
    assert "--target argo needs --namespace" in capsys.readouterr().err
