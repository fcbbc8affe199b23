"""`kustomize build` of both overlays: every object valid (core kinds at Kubernetes 1.30 and 1.33
strictly, custom resources against the upstream CRDs), the security baseline, and RBAC exactly
as designed: the runner's pods may only record step results (WorkflowTaskResults), the deployer may
manage InferenceServices in its namespace, and nothing else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY
from k8s_validation import assert_valid
from security_baseline import assert_baseline

from portway.devtools.charts import render_chart, rendered_objects

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
OVERLAYS = ("eks", "kind")
NAMESPACE = "portway"
RUNNER, DEPLOYER, INFERENCE = "portway-pipeline-runner", "portway-deployer", "portway-inference"

# (apiGroup, resource) -> verbs, per Role. Anything beyond this is a test failure.
EXPECTED_RULES = {
    RUNNER: {
        # The Argo executor in each step's pod reports outputs through WorkflowTaskResults; the step
        # pods may not create or delete pods or workflows.
        ("argoproj.io", "workflowtaskresults"): {"create", "patch"},
        # Distributed train: the step creates its Kubeflow Trainer TrainJob, waits for it, may delete it.
        ("trainer.kubeflow.org", "trainjobs"): {"create", "get", "watch", "delete"},
    },
    DEPLOYER: {
        ("serving.kserve.io", "inferenceservices"): {"create", "get", "list", "watch", "update", "patch", "delete"},
    },
}


def kustomize_command() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]  # kubectl embeds kustomize (v5.x)
    pytest.skip("neither kustomize nor kubectl (which embeds kustomize) is on PATH")


def build(overlay: str) -> list[dict]:
    result = subprocess.run([*kustomize_command(), str(MANIFESTS / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, build(request.param)


def named(objects, kind, name) -> dict:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: found {len(found)}"
    return found[0]


def test_objects_are_valid(overlay, schemas_dir):
    _, objects = overlay
    assert_valid(objects, schemas_dir)


def test_security_baseline(overlay):
    _, objects = overlay
    assert_baseline(objects, forbidden=(TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY))
    assert "Secret" not in {o["kind"] for o in objects}


def test_everything_lives_in_the_portway_namespace(overlay):
    _, objects = overlay
    named(objects, "Namespace", NAMESPACE)
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == NAMESPACE, (obj["kind"], obj["metadata"]["name"])
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "portway"
        assert {"app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/managed-by"} <= set(labels)


def test_rbac_is_exactly_as_designed(overlay):
    _, objects = overlay
    kinds = {o["kind"] for o in objects}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}, "no cluster-wide permission is granted"
    roles = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Role"}
    assert set(roles) == set(EXPECTED_RULES)
    for name, expected in EXPECTED_RULES.items():
        granted: dict[tuple[str, str], set[str]] = {}
        for rule in roles[name]["rules"]:
            assert not rule.get("resourceNames") and not rule.get("nonResourceURLs"), rule
            assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"], rule
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    granted.setdefault((group, resource), set()).update(rule["verbs"])
        assert granted == expected, name
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    assert {b["metadata"]["name"] for b in bindings} == set(EXPECTED_RULES)
    for binding in bindings:
        name = binding["metadata"]["name"]
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}]
    # The model servers' identity has no Kubernetes permissions at all.
    named(objects, "ServiceAccount", INFERENCE)
    assert all(s["name"] != INFERENCE for b in bindings for s in b["subjects"])


def test_the_deployer_can_apply_what_deploy_renders(overlay):
    """`portway deploy` renders charts/kserve-inference onto the pre-made inference service
    account; every object it would apply is one the deployer's Role allows."""
    _, objects = overlay
    rendered = rendered_objects(render_chart(
        REPO / "charts" / "kserve-inference",
        {"model": {"storageUri": "s3://portway-models/registry/groups/churn/artifacts/0123456789abcdef/"},
         "serviceAccount": {"create": False, "name": INFERENCE}},
        namespace=NAMESPACE))
    allowed = {resource for (_, resource) in EXPECTED_RULES[DEPLOYER]}
    assert {o["kind"].lower() + "s" for o in rendered} <= allowed
    assert {o["spec"]["predictor"]["serviceAccountName"] for o in rendered} == {INFERENCE}


def test_eks_overlay_uses_irsa():
    objects = build("eks")
    for name in (RUNNER, INFERENCE):
        annotations = named(objects, "ServiceAccount", name)["metadata"]["annotations"]
        assert annotations["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
        assert annotations["eks.amazonaws.com/role-arn"].endswith(f":role/{name}")
    assert "annotations" not in named(objects, "ServiceAccount", DEPLOYER)["metadata"]
    assert not [o for o in objects if o["metadata"]["name"].startswith("minio")]


def test_kind_overlay_brings_minio_with_keys_from_a_secret_only():
    objects = build("kind")
    secret_refs = set()
    for kind, name in (("Deployment", "minio"), ("Job", "minio-create-bucket")):
        spec = named(objects, kind, name)["spec"]["template"]["spec"]
        for container in spec["containers"]:
            for var in container.get("env", []):
                ref = var["valueFrom"]["secretKeyRef"]
                secret_refs.add((ref["name"], ref["key"]))
    assert secret_refs == {("portway-s3-credentials", "AWS_ACCESS_KEY_ID"),
                           ("portway-s3-credentials", "AWS_SECRET_ACCESS_KEY")}
    assert named(objects, "ServiceAccount", INFERENCE)["secrets"] == [{"name": "portway-s3-credentials"}]
    job = named(objects, "Job", "minio-create-bucket")
    assert "portway-models" in job["spec"]["template"]["spec"]["containers"][0]["args"][0]


def test_kind_cluster_config_is_pinned():
    config = yaml.safe_load((MANIFESTS / "overlays" / "kind" / "kind-config.yaml").read_text())
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4" and config["kind"] == "Cluster"
    images = [node["image"] for node in config["nodes"]]
    assert images and all(i.startswith("kindest/node:v1.") for i in images), images


def test_kind_suspends_the_gpu_sized_schedule_and_eks_runs_it():
    assert named(build("kind"), "CronWorkflow", "continuous-training")["spec"]["suspend"] is True
    assert not named(build("eks"), "CronWorkflow", "continuous-training")["spec"].get("suspend")
