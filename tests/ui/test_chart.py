"""charts/registry-ui: strict lint and render of every ci scenario, strict validation of the
objects at each Kubernetes version, the security baseline, and what the values do."""

from __future__ import annotations

from pathlib import Path

import helm_python
import pytest
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY
from k8s_validation import assert_valid
from security_baseline import assert_baseline

from portway.devtools.charts import (
    KUBE_VERSIONS,
    ci_values_files,
    lint_chart,
    load_values,
    render_chart,
    rendered_objects,
)

CHART = Path(__file__).resolve().parents[2] / "charts" / "registry-ui"
SCENARIOS = ci_values_files(CHART)
MINIMAL = {"registry": {"uri": "s3://portway-models/registry"}}


def render(values: dict) -> list[dict]:
    return rendered_objects(render_chart(CHART, values))


def by_kind(objects: list[dict], kind: str) -> dict:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, [o["kind"] for o in objects]
    return found[0]


def test_scenarios_exist():
    assert {p.name for p in SCENARIOS} >= {"minimal-values.yaml", "eks-values.yaml", "kind-minio-values.yaml"}


@pytest.mark.parametrize("values_file", SCENARIOS, ids=lambda p: p.name)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_scenario_passes_strict_lint(values_file, kube_version):
    assert lint_chart(CHART, load_values(values_file), kube_version=kube_version) == []


@pytest.mark.parametrize("values_file", SCENARIOS, ids=lambda p: p.name)
def test_scenario_renders_valid_secure_objects(values_file, schemas_dir):
    objects = render(load_values(values_file))
    assert {o["kind"] for o in objects} == {"Deployment", "Service", "ServiceAccount", "NetworkPolicy"}
    assert_valid(objects, schemas_dir)
    assert_baseline(objects, forbidden=(TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY))
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "portway"


def test_defaults_non_root_read_only_behind_the_proxy():
    objects = render(MINIMAL)
    pod = by_kind(objects, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["args"] == ["ui", "--host", "0.0.0.0", "--port", "8090", "--trust-proxy-headers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PORTWAY_REGISTRY"] == "s3://portway-models/registry" and "AWS_ACCESS_KEY_ID" not in env
    assert by_kind(objects, "Service")["spec"]["type"] == "ClusterIP"
    policy = by_kind(objects, "NetworkPolicy")["spec"]
    assert policy["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}}]


def test_eks_irsa_role_and_shared_csrf_secret():
    objects = render(load_values(CHART / "ci" / "eks-values.yaml"))
    sa = by_kind(objects, "ServiceAccount")
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/portway-registry-ui"}
    deployment = by_kind(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PORTWAY_UI_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "portway-ui-csrf", "key": "secret"}
    assert env["PORTWAY_WEBHOOK_URL"]["value"] == "https://hooks.example.com/portway"
    source = by_kind(objects, "NetworkPolicy")["spec"]["ingress"][0]["from"][0]
    assert source["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "auth"}}


def test_minio_keys_come_from_the_secret():
    container = by_kind(render(load_values(CHART / "ci" / "kind-minio-values.yaml")), "Deployment")[
        "spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["AWS_ENDPOINT_URL"]["value"] == "http://minio.portway.svc.cluster.local:9000"
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[key]["valueFrom"]["secretKeyRef"] == {"name": "portway-s3-credentials", "key": key}


@pytest.mark.parametrize(("values", "expected"), [
    ({}, "registry.uri is required"),
    ({**MINIMAL, "replicaCount": 3}, "replicaCount=3 needs csrfSecret.existingSecret"),
    ({**MINIMAL, "s3": {"credentialsSecret": "keys"},
      "serviceAccount": {"irsaRoleArn": "arn:aws:iam::123456789012:role/x"}}, "Set only one"),
    ({**MINIMAL, "serviceAccount": {"create": False, "irsaRoleArn": "arn:aws:iam::123456789012:role/x"}},
     "Set serviceAccount.create=true"),
    ({**MINIMAL, "authProxy": {"podLabels": None}}, "authProxy.podLabels is empty"),  # null deletes the default
])
def test_inconsistent_values_fail_with_what_to_change(values, expected):
    with pytest.raises(helm_python.HelmError) as info:
        render(values)
    assert expected in str(info.value)


@pytest.mark.parametrize(("values", "field"), [
    ({"registry": {"uri": "/data/registry"}}, "registry.uri"),
    ({**MINIMAL, "image": {"repository": "x", "tag": "latest"}}, "image.tag"),
    ({**MINIMAL, "s3": {"endpoint": "minio:9000"}}, "s3.endpoint"),
    ({**MINIMAL, "replicaCount": 0}, "replicaCount"),
])
def test_schema_names_the_bad_field(values, field):
    with pytest.raises(helm_python.HelmError) as info:
        render(values)
    assert field.split(".")[-1] in str(info.value)
