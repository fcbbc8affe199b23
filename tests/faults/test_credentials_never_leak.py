"""Credentials never appear in logs, run folders, the registry, error messages, compiled
pipelines or rendered charts.

Every S3 call in these tests is made with the test credentials (conftest), so any copy of
them that ends up somewhere a user or an operator can read is a leak this test finds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY

from faults.conftest import direct_client, invoke, point_aws_at
from faults.s3_fault_proxy import FaultPlan
from portway.errors import PortwayError

pytestmark = [pytest.mark.local, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
SECRETS = (TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY)


def leaks(where: str, content: str | bytes) -> list[str]:
    data = content.encode() if isinstance(content, str) else content
    return [f"{where} contains {secret[:6]}…" for secret in SECRETS if secret.encode() in data]


def scan_tree(root: Path) -> tuple[int, list[str]]:
    """(files scanned, leaks) for every file under `root`, text or binary."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), [leak for path in files for leak in leaks(str(path), path.read_bytes())]


def test_not_in_run_folders_console_output_cache_or_registry(s3_runs, s3_server):
    scanned, found = scan_tree(s3_runs.runs_dir)  # logs, summaries, kfp artifacts, the task cache
    assert scanned >= 10 and (s3_runs.runs_dir / ".cache").is_dir()
    for name, invocation in (("flaky run", s3_runs.flaky), ("failed run", s3_runs.failed)):
        found += leaks(f"{name} stdout", invocation.stdout) + leaks(f"{name} stderr", invocation.stderr)
    s3 = direct_client(s3_server)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_runs.bucket)["Contents"]]
    assert any(k.endswith("/versions/00000001.json") for k in keys)
    for key in keys:
        found += leaks(f"s3://{s3_runs.bucket}/{key}", s3.get_object(Bucket=s3_runs.bucket, Key=key)["Body"].read())
    assert found == []


def test_not_in_error_messages(fault_proxy, bucket, trained, tmp_path, monkeypatch):
    from portway.embedded.runner import fingerprint
    from portway.objectstore import S3Store
    from portway.registry import ModelRegistry
    from portway.steps.process import materialize

    def message_of(operation) -> str:
        with pytest.raises(PortwayError) as failure:
            operation()
        return str(failure.value)

    def enter(context):
        with context:
            pass

    store = S3Store(f"s3://{bucket}/p")
    messages = [
        message_of(lambda: store.get("missing.json")),
        message_of(lambda: S3Store("s3://no-such-bucket-portway/p").list("")),
        message_of(lambda: fingerprint(f"s3://{bucket}/missing.csv")),
        message_of(lambda: enter(materialize(f"s3://{bucket}/missing.csv"))),
    ]
    monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "2")
    fault_proxy.set_plan(FaultPlan(error_share=1.0, max_faults_in_a_row=None))
    messages += [
        message_of(lambda: store.put("a.json", b"{}")),
        message_of(lambda: ModelRegistry(f"s3://{bucket}/r").register(
            "churn", trained["model_dir"], {}, {}, evaluation_path=trained["evaluation_path"])),
    ]
    fault_proxy.set_plan(FaultPlan(drop_share=1.0, max_faults_in_a_row=None))
    messages.append(message_of(lambda: store.get("a.json")))
    fault_proxy.set_plan(FaultPlan())
    cli = invoke(["run", "--data", f"s3://{bucket}/missing.csv", "--runs-dir", str(tmp_path / "runs")])
    assert cli.exit_code == 2 and "missing.csv" in cli.stderr
    messages.append(cli.stderr)

    assert all(f"{bucket}" in m or "no-such-bucket-portway" in m for m in messages), messages
    assert [leak for m in messages for leak in leaks(m, m)] == []


def test_not_in_compiled_pipelines_rendered_charts_or_manifests(monkeypatch, s3_server):
    # The credentials are in this process's environment while compiling and rendering, as they
    # would be on a developer's machine: nothing may copy them into what is produced.
    point_aws_at(monkeypatch, s3_server)
    found, produced = [], 0
    import yaml

    from portway.compile import PIPELINES, ArgoOptions, compile_argo, compile_kfp, kfp_yaml, load_pipeline

    for name in PIPELINES:
        pipeline = load_pipeline(name)
        found += leaks(f"{name} (KFP IR)", kfp_yaml(compile_kfp(pipeline)))
        argo = compile_argo(pipeline, ArgoOptions(s3_secret="portway-s3"))
        found += leaks(f"{name} (Argo)", yaml.safe_dump(argo))
        produced += 2

    charts = sorted(p.parent for p in (REPO / "charts").glob("*/Chart.yaml"))
    if charts:
        from portway.devtools.charts import ci_values_files, load_values, render_chart

        for chart in charts:
            for values in ci_values_files(chart):
                for template, text in render_chart(chart, load_values(values)).items():
                    found += leaks(f"{chart.name}/{values.name}: {template}", text)
                    produced += 1
    for manifest in sorted((REPO / "manifests").rglob("*.yaml")):
        found += leaks(str(manifest.relative_to(REPO)), manifest.read_bytes())
        produced += 1
    assert produced > 2 and found == []
