"""`portway runs` against local servers speaking the Argo server and KFP v2beta1 APIs, errors included."""

from __future__ import annotations

import json

import pytest

from portway import exitcodes
from portway.cli import main

from .fake_servers import ArgoFake, KfpFake

pytestmark = pytest.mark.usefixtures("clean_environment")
TOKEN = "runs-test-token-1"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def argo():
    with ArgoFake(token=TOKEN) as fake:
        fake.add_workflow("ct-aaaa1", "Succeeded", {"process": "Succeeded", "train": "Succeeded"},
                          started="2026-01-01T00:00:00Z", logs=[("ct-aaaa1-process-1", "read 5000 rows"),
                                                                 ("ct-aaaa1-train-2", "best iteration 41")])
        fake.add_workflow("ct-bbbb2", "Running", {"process": "Succeeded", "train": "Running"},
                          started="2026-01-02T00:00:00Z")
        fake.add_workflow("hp-cccc3", "Failed", {"process": "Failed"}, pipeline="hyperparameter-search",
                          started="2026-01-03T00:00:00Z", message="child 'hp-cccc3-0' failed")
        yield fake


def argo_args(fake, *args):
    return ["--target", "argo", "--server", fake.url, "-n", "ml", "--token", TOKEN, *args]


def test_argo_list_show_logs_with_the_same_table_and_json(argo, capsys):
    code, out, _ = run(capsys, "runs", "list", *argo_args(argo))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["run", "status", "started", "duration", "pipeline"]
    assert [line.split()[:2] for line in lines[1:]] == [["hp-cccc3", "FAILED"], ["ct-bbbb2", "RUNNING"],
                                                        ["ct-aaaa1", "SUCCEEDED"]]
    code, out, _ = run(capsys, "runs", "list", *argo_args(argo, "--pipeline", "continuous-training", "--json"))
    document = json.loads(out)
    assert [r["id"] for r in document["runs"]] == ["ct-bbbb2", "ct-aaaa1"]
    listing = [r for r in argo.requests if r.path == "/api/v1/workflows/ml" and r.method == "GET"][-1]
    assert listing.query["listOptions.labelSelector"] == ["portway.dev/pipeline=continuous-training"]
    assert listing.query["fields"] == ["-items.status.nodes,-items.status.storedTemplates"]
    assert listing.headers["authorization"] == f"Bearer {TOKEN}"

    code, out, _ = run(capsys, "runs", "show", "ct-aaaa1", *argo_args(argo, "--json"))
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "SUCCEEDED" and shown["native_status"] == "Succeeded"
    assert [(s["name"], s["status"], s["seconds"]) for s in shown["steps"]] == [
        ("process", "SUCCEEDED", 30.0), ("train", "SUCCEEDED", 30.0)]
    assert shown["seconds"] == 120.0 and shown["location"] == "ml/ct-aaaa1"
    code, out, _ = run(capsys, "runs", "show", "hp-cccc3", *argo_args(argo))
    assert code == 0 and out.startswith("hp-cccc3  FAILED\n") and "child 'hp-cccc3-0' failed" in out
    assert "Error (exit code 1)" in out

    code, out, _ = run(capsys, "runs", "logs", "ct-aaaa1", *argo_args(argo))
    assert code == 0 and out.splitlines() == ["ct-aaaa1-process-1: read 5000 rows", "ct-aaaa1-train-2: best iteration 41"]
    (log_request,) = [r for r in argo.requests if r.path.endswith("/log")]
    assert log_request.path == "/api/v1/workflows/ml/ct-aaaa1/log"
    assert log_request.query["logOptions.container"] == ["main"]


def test_argo_watch_and_stop(argo, capsys):
    code, out, err = run(capsys, "runs", "watch", "ct-aaaa1", *argo_args(argo, "--poll-seconds", "0.01"))
    assert code == 0 and "workflow ml/ct-aaaa1 Succeeded" in out
    code, _, err = run(capsys, "runs", "watch", "hp-cccc3", *argo_args(argo, "--poll-seconds", "0.01"))
    assert code == exitcodes.FAILED and "failed step(s): process" in err

    code, out, _ = run(capsys, "runs", "stop", "ct-bbbb2", *argo_args(argo))
    assert code == 0 and "stop requested for workflow ml/ct-bbbb2" in out
    (stop,) = [r for r in argo.requests if r.method == "PUT"]
    assert stop.path == "/api/v1/workflows/ml/ct-bbbb2/stop" and stop.body == {"name": "ct-bbbb2", "namespace": "ml"}
    code, out, _ = run(capsys, "runs", "show", "ct-bbbb2", *argo_args(argo, "--json"))
    assert json.loads(out)["status"] == "CANCELED"  # Failed, "Stopped with strategy 'Stop'"
    code, out, _ = run(capsys, "runs", "stop", "ct-aaaa1", *argo_args(argo))
    assert code == 0 and "already ended: Succeeded; nothing to stop" in out
    assert len([r for r in argo.requests if r.method == "PUT"]) == 1


def test_argo_from_the_environment_the_argo_cli_reads(argo, capsys, monkeypatch):
    """ARGO_SERVER is host:port without a scheme (ARGO_SECURE=false: http), plus ARGO_NAMESPACE and ARGO_TOKEN."""
    monkeypatch.setenv("ARGO_SERVER", argo.url.removeprefix("http://"))
    monkeypatch.setenv("ARGO_SECURE", "false")
    monkeypatch.setenv("ARGO_NAMESPACE", "ml")
    monkeypatch.setenv("ARGO_TOKEN", f"Bearer {TOKEN}")  # `argo auth token` prints it with the prefix
    code, out, err = run(capsys, "runs", "list", "--target", "argo")
    assert code == 0 and "ct-aaaa1" in out, err
    # a flag wins over the environment
    code, _, err = run(capsys, "runs", "list", "--target", "argo", "-n", "other")
    assert code == 2 and "namespace 'other' does not exist" in err


@pytest.mark.parametrize("setup, args, code, message", [
    ({"token": "other"}, [], 2, "refused the credentials (401)"),
    ({"forbidden": ("ml",)}, [], 2, "refused the request (403) in namespace 'ml'"),
    ({"namespaces": ("other",)}, [], 2, "namespace 'ml' does not exist"),
])
def test_argo_error_answers(setup, args, code, message, capsys):
    with ArgoFake(**setup) as fake:
        result, _, err = run(capsys, "runs", "list", *argo_args(fake, *args))
    assert result == code and message in err and "Traceback" not in err


def test_argo_unknown_workflow_server_error_and_unreachable(argo, capsys):
    code, _, err = run(capsys, "runs", "show", "nosuch", *argo_args(argo))
    assert code == 2 and 'not found on the Argo server' in err and 'workflows.argoproj.io "nosuch" not found' in err
    code, _, err = run(capsys, "runs", "logs", "nosuch", *argo_args(argo))
    assert code == 2 and "(404)" in err
    argo.fail_with = 500
    code, _, err = run(capsys, "runs", "list", *argo_args(argo))
    assert code == exitcodes.FAILED and "answered 500" in err and "try again later" in err
    from conftest import free_port

    code, _, err = run(capsys, "runs", "list", "--target", "argo", "--server", f"http://127.0.0.1:{free_port()}",
                       "-n", "ml")
    assert code == exitcodes.FAILED and "cannot reach the Argo server" in err
    code, _, err = run(capsys, "runs", "list", "--target", "argo", "-n", "ml")
    assert code == 2 and "needs --server (or ARGO_SERVER)" in err


@pytest.fixture
def kfp():
    with KfpFake(token=TOKEN) as fake:
        fake.ids = {
            "done": fake.add_run("continuous-training", "SUCCEEDED", {"process": "SUCCEEDED", "train": "SUCCEEDED"},
                                 created_at="2026-01-01T00:00:00Z"),
            "running": fake.add_run("continuous-training", "RUNNING", {"process": "SUCCEEDED", "train": "RUNNING"},
                                    created_at="2026-01-02T00:00:00Z"),
            "failed": fake.add_run("hyperparameter-search", "FAILED", {"process": "FAILED"},
                                   created_at="2026-01-03T00:00:00Z"),
        }
        yield fake


def kfp_args(fake, *args):
    return ["--target", "kfp", "--host", fake.url, "--token", TOKEN, *args]


def test_kfp_list_show_watch_stop(kfp, capsys):
    ids = kfp.ids
    code, out, _ = run(capsys, "runs", "list", *kfp_args(kfp))
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["run", "status", "started", "duration", "pipeline"]
    assert [line.split()[:2] for line in lines[1:]] == [[ids["failed"], "FAILED"], [ids["running"], "RUNNING"],
                                                        [ids["done"], "SUCCEEDED"]]
    listing = [r for r in kfp.requests if r.path == "/apis/v2beta1/runs" and r.method == "GET"][-1]
    assert listing.query["sort_by"] == ["created_at desc"]

    code, out, _ = run(capsys, "runs", "show", ids["done"], *kfp_args(kfp, "--json"))
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "SUCCEEDED" and shown["seconds"] == 120.0
    assert [(s["name"], s["status"], s["seconds"]) for s in shown["steps"]] == [
        ("process", "SUCCEEDED", 60.0), ("train", "SUCCEEDED", 60.0)]  # KFP's root task is left out
    code, out, _ = run(capsys, "runs", "show", ids["running"], *kfp_args(kfp))
    assert "RUNNING" in out and "finished     -" in out  # the API's zero time is "not yet"

    code, _, err = run(capsys, "runs", "watch", ids["failed"], *kfp_args(kfp, "--poll-seconds", "0.01"))
    assert code == exitcodes.FAILED and "FAILED: task train failed" in err
    code, out, _ = run(capsys, "runs", "stop", ids["running"], *kfp_args(kfp, "--json"))
    assert code == 0 and json.loads(out)["status"] == "CANCELED"
    (terminate,) = [r for r in kfp.requests if r.path.endswith(":terminate")]
    assert (terminate.method, terminate.path) == ("POST", f"/apis/v2beta1/runs/{ids['running']}:terminate")
    code, out, _ = run(capsys, "runs", "stop", ids["done"], *kfp_args(kfp))
    assert code == 0 and "already ended: SUCCEEDED" in out


def test_kfp_logs_say_where_they_are(kfp, capsys):
    code, _, err = run(capsys, "runs", "logs", kfp.ids["done"], *kfp_args(kfp))
    assert code == 2 and "the KFP API serves no logs" in err
    assert f"-l pipeline/runid={kfp.ids['done']}" in err and f"/#/runs/details/{kfp.ids['done']}" in err


def test_kfp_from_the_environment_and_errors(kfp, capsys, monkeypatch):
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", kfp.url)
    monkeypatch.setenv("KF_PIPELINES_TOKEN", TOKEN)
    code, out, _ = run(capsys, "runs", "list", "--target", "kfp", "--json")
    assert code == 0 and len(json.loads(out)["runs"]) == 3
    code, _, err = run(capsys, "runs", "show", "0000-nosuch", "--target", "kfp")
    assert code == 2 and "(404)" in err and "Run 0000-nosuch not found" in err
    monkeypatch.setenv("KF_PIPELINES_TOKEN", "wrong")
    code, _, err = run(capsys, "runs", "list", "--target", "kfp")
    assert code == 2 and "refused the credentials (401)" in err
    kfp.fail_with = 503
    code, _, err = run(capsys, "runs", "list", "--target", "kfp", "--token", TOKEN)
    assert code == exitcodes.FAILED and "answered 503" in err
    from conftest import free_port

    code, _, err = run(capsys, "runs", "list", "--target", "kfp", "--host", f"http://127.0.0.1:{free_port()}")
    assert code == exitcodes.FAILED and "cannot reach the KFP API server" in err


def test_kfp_forbidden_by_the_auth_proxy(capsys):
    with KfpFake(healthz_status=403) as fake:
        code, _, err = run(capsys, "runs", "list", *kfp_args(fake))
    assert code == 2 and "refused the request (403): forbidden by the auth proxy" in err


def test_ctrl_c_while_watching_leaves_the_run_alone(argo, capsys, monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("portway.runs.argo.watch_workflow", interrupted)
    code, _, err = run(capsys, "runs", "watch", "ct-bbbb2", *argo_args(argo))
    assert code == exitcodes.INTERRUPTED and "stopped watching; run ct-bbbb2 keeps going" in err
    assert not [r for r in argo.requests if r.method == "PUT"]
