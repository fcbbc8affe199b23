"""`portway submit PIPELINE` for any pipeline (IR file, .py file, module:attribute) and the environment
variables Argo's and KFP's own tools read (issue 14: "submit reads neither ARGO_SERVER nor KF_PIPELINES_ENDPOINT")."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from portway.cli import main

from .fake_servers import ArgoFake, KfpFake

pytestmark = pytest.mark.usefixtures("clean_environment")
TOKEN = "submit-env-token-1"


@pytest.fixture(scope="module")
def ir_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("build") / "training.kfp.yaml"
    assert main(["compile", "--target", "kfp", "-o", str(path)]) == 0
    return path


def test_an_ir_file_to_argo_with_params_and_watch_from_the_environment(ir_file, monkeypatch, capsys):
    """The issue's command, `portway submit build/training.kfp.yaml --target argo --server ... --param ... --watch`,
    with the server, namespace and token from ARGO_SERVER (host:port, ARGO_SECURE=false), ARGO_NAMESPACE, ARGO_TOKEN."""
    with ArgoFake(token=TOKEN) as argo:
        monkeypatch.setenv("ARGO_SERVER", argo.url.removeprefix("http://"))
        monkeypatch.setenv("ARGO_SECURE", "false")
        monkeypatch.setenv("ARGO_NAMESPACE", "ml")
        monkeypatch.setenv("ARGO_TOKEN", TOKEN)
        code = main(["submit", str(ir_file), "--target", "argo", "--param", "threshold=0.9",
                     "--param", "data_uri=s3://d/churn.csv", "--watch", "--poll-seconds", "0.01"])
    out = capsys.readouterr().out
    assert code == 0 and "Succeeded" in out
    create = argo.requests[0]
    assert (create.method, create.path) == ("POST", "/api/v1/workflows/ml")
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    arguments = {p["name"]: p.get("value") for p in create.body["workflow"]["spec"]["arguments"]["parameters"]}
    assert arguments["threshold"] == "0.9" and arguments["data_uri"] == "s3://d/churn.csv"


def test_flags_win_over_the_environment_and_json(monkeypatch, capsys):
    with ArgoFake() as argo:
        monkeypatch.setenv("ARGO_SERVER", "127.0.0.1:1")  # nothing listens there
        monkeypatch.setenv("ARGO_NAMESPACE", "nosuch")
        assert main(["submit", "--target", "argo", "--server", argo.url, "--namespace", "ml", "--json"]) == 0
    assert argo.requests[0].path == "/api/v1/workflows/ml"
    out, err = capsys.readouterr()
    document = json.loads(out)
    name = next(iter(argo.objects))[2]
    assert document == {"target": "argo", "server": argo.url, "kind": "Workflow", "name": name, "namespace": "ml",
                        "phase": None}
    assert f"created Workflow ml/{name}" in err


def test_an_ir_file_and_a_python_file_to_kfp_from_kf_pipelines_endpoint(ir_file, tmp_path, monkeypatch, capsys):
    pipeline_file = tmp_path / "my_pipes.py"
    pipeline_file.write_text(textwrap.dedent("""
        from kfp import dsl

        @dsl.component(base_image="python:3.11")
        def add(a: int, b: int) -> int:
            return a + b

        @dsl.pipeline(name="adder")
        def training(a: int = 1, b: int = 2):
            add(a=a, b=b)
    """))
    with KfpFake() as kfp:
        monkeypatch.setenv("KF_PIPELINES_ENDPOINT", kfp.url)
        assert main(["submit", str(ir_file), "--target", "kfp", "--param", "threshold=0.9"]) == 0
        assert main(["submit", f"{pipeline_file}:training", "--target", "kfp", "--param", "a=5"]) == 0
    runs = [r.body for r in kfp.requests if r.method == "POST" and r.path == "/apis/v2beta1/runs"]
    pipeline_spec, _ = yaml.safe_load_all(ir_file.read_text())
    assert runs[0]["pipeline_spec"]["pipeline_spec"] == pipeline_spec
    assert runs[0]["runtime_config"]["parameters"] == {"threshold": 0.9}
    assert runs[1]["pipeline_spec"]["pipelineInfo"]["name"] == "adder"
    assert runs[1]["runtime_config"]["parameters"] == {"a": 5}


def test_missing_server_names_the_variable(capsys):
    assert main(["submit", "--target", "kfp"]) == 2
    assert "--target kfp needs --host (or KF_PIPELINES_ENDPOINT)" in capsys.readouterr().err
    assert main(["submit", "--target", "argo", "--namespace", "ml"]) == 2
    assert "needs --server (or ARGO_SERVER)" in capsys.readouterr().err
    assert main(["submit", "nosuch.yaml", "--target", "kfp", "--host", "http://127.0.0.1:1"]) == 2
    assert "nosuch.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("env, flag, expected", [
    ({"ARGO_SERVER": "argo.example:2746"}, None, "https://argo.example:2746"),  # the argo CLI's default: TLS
    ({"ARGO_SERVER": "localhost:2746", "ARGO_SECURE": "false"}, None, "http://localhost:2746"),
    ({"ARGO_SERVER": "argo.example", "ARGO_BASE_HREF": "/argo/"}, None, "https://argo.example/argo"),
    ({"ARGO_SERVER": "http://127.0.0.1:2746"}, None, "http://127.0.0.1:2746"),
    ({"ARGO_SERVER": "argo.example:2746"}, "https://other.example", "https://other.example"),
    ({}, None, None),
])
def test_argo_server_as_the_argo_cli_reads_it(env, flag, expected, monkeypatch):
    from portway.submit import argo_server_url

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert argo_server_url(flag) == expected


def test_tls_verification_settings(monkeypatch, tmp_path):
    from portway.errors import ParameterError
    from portway.submit import tls_verify

    assert tls_verify(False, None, "argo") is True
    assert tls_verify(True, None, "kfp") is False
    monkeypatch.setenv("ARGO_INSECURE_SKIP_VERIFY", "true")
    assert tls_verify(False, None, "argo") is False
    assert tls_verify(False, None, "kfp") is True  # an Argo setting only
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.delenv("ARGO_INSECURE_SKIP_VERIFY")
    assert tls_verify(False, str(ca), "kfp") == str(ca)
    with pytest.raises(ParameterError, match="--ca-cert .* does not exist"):
        tls_verify(False, str(tmp_path / "missing.pem"), "argo")
