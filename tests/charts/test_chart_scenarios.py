"""Every chart, for every ci/*-values.yaml: strict lint, render, strict schema validation
(core kinds at Kubernetes 1.30 and 1.33, custom resources against the upstream CRDs with
their CEL rules), and the security baseline."""

from __future__ import annotations

import pytest
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY
from k8s_validation import assert_valid
from security_baseline import assert_baseline

from portway.devtools.charts import KUBE_VERSIONS, lint_chart, load_values

from .conftest import CHARTS_DIR, SCENARIOS, render

EXPECTED_KINDS = {
    "gpu-nodepool": {"NodePool", "EC2NodeClass"},
    "kserve-inference": {"InferenceService", "ServiceAccount"},
}


def scenario_id(scenario) -> str:
    return f"{scenario[0]}/{scenario[1].name}"


def test_each_chart_has_cpu_gpu_and_minimal_scenarios():
    for chart in EXPECTED_KINDS:
        names = {values.name for name, values in SCENARIOS if name == chart}
        assert {"cpu-values.yaml", "gpu-values.yaml", "minimal-values.yaml"} <= names, (chart, names)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_scenario_passes_strict_lint(scenario, kube_version):
    chart, values_file = scenario
    assert lint_chart(CHARTS_DIR / chart, load_values(values_file), kube_version=kube_version) == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_scenario_renders_valid_secure_objects(scenario, schemas_dir):
    chart, values_file = scenario
    objects = render(CHARTS_DIR / chart, load_values(values_file))
    kinds = {o["kind"] for o in objects}
    assert EXPECTED_KINDS[chart] <= kinds, kinds
    assert_valid(objects, schemas_dir)
    assert_baseline(objects, forbidden=(TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY))
    for obj in objects:
        labels = obj["metadata"]["labels"]
        for key in ("name", "instance", "version", "component", "part-of", "managed-by"):
            assert f"app.kubernetes.io/{key}" in labels, (obj["kind"], key)
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "portway"
