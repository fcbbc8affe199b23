"""The validators the chart and manifest tests rely on catch what they claim to catch."""

from __future__ import annotations

import copy

from k8s_validation import cel_errors, object_errors
from security_baseline import baseline_violations

from .conftest import GPU_CHART, KSERVE_CHART, by_kind, render


def test_crd_validation_names_unknown_fields_and_cel_violations(schemas_dir, gpu_defaults):
    objects = render(GPU_CHART, gpu_defaults)
    node_class = copy.deepcopy(by_kind(objects, "EC2NodeClass"))
    assert object_errors(node_class, schemas_dir) == []
    node_class["spec"]["instanceProfile"] = "also-a-profile"  # role is set too: the CRD's CEL rule says no
    node_class["spec"]["amiSelectorTerms"] = [{"alias": "ubuntu@latest"}]
    node_class["spec"]["blockDeviceMapping"] = []  # misspelt
    errors = "\n".join(object_errors(node_class, schemas_dir))
    assert "must specify exactly one of ['role', 'instanceProfile']" in errors
    assert "family is not supported" in errors
    assert "blockDeviceMapping" in errors

    pool = copy.deepcopy(by_kind(objects, "NodePool"))
    pool["spec"]["template"]["metadata"]["labels"]["karpenter.sh/nodepool"] = "x"
    pool["metadata"]["labels"]["bad"] = 3  # ObjectMeta labels are strings
    errors = "\n".join(object_errors(pool, schemas_dir))
    assert 'label "karpenter.sh/nodepool" is restricted' in errors
    assert "labels/bad" in errors


def test_transition_rules_are_skipped_and_evaluator_gaps_reported(schemas_dir, gpu_defaults):
    pool = by_kind(render(GPU_CHART, gpu_defaults), "NodePool")
    crd = schemas_dir / "karpenter/v1.14.1/karpenter.sh_nodepools.yaml"
    assert cel_errors(pool, crd) == []  # includes `has(self.replicas) == has(oldSelf.replicas)`, skipped


def test_core_validation_is_strict_at_each_version(schemas_dir, kserve_defaults):
    sa = copy.deepcopy(by_kind(render(KSERVE_CHART, kserve_defaults), "ServiceAccount"))
    assert object_errors(sa, schemas_dir) == []
    sa["automountToken"] = False
    errors = object_errors(sa, schemas_dir)
    assert len(errors) == 2 and all("automountToken" in e for e in errors), errors  # 1.30 and 1.33


def test_security_baseline_flags_each_rule():
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "minio/minio:latest", "securityContext": {"privileged": True},
             "env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "s3cr3t"}]},
            {"name": "b", "image": "busybox", "resources": {"requests": {"cpu": "1"}}},
        ]}}},
    }
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "keys"},
              "stringData": {"AWS_ACCESS_KEY_ID": "AKIAABCDEFGHIJKLMNOP"}}
    problems = "\n".join(baseline_violations([deployment, secret]))
    for expected in ("container a: privileged", "allowPrivilegeEscalation is not false", "runAsNonRoot is not set",
                     "container a: no requests for cpu, memory", "container b: no limits for cpu, memory",
                     "container b: no requests for memory", "uses the latest tag", "has no tag",
                     "AWS_SECRET_ACCESS_KEY has a literal value", "a Secret with data is rendered",
                     "looks like an AWS access key id"):
        assert expected in problems, expected
