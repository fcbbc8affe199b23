"""The security baseline every rendered object must meet (charts and kustomize overlays).

Per container: not privileged, no privilege escalation, runs as non-root (container or pod
level), CPU and memory requests and limits, an image pinned to a tag other than `latest` (or a
digest). Per object: no credentials (no Secret with data, no literal secret-looking env value,
no AWS access key id anywhere).
"""

from __future__ import annotations

import re

_CREDENTIAL_ENV = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|ACCESS_KEY|PRIVATE_KEY|ROOT_USER|CREDENTIAL)", re.I)
_AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
# Well-known default credentials that must never ship (MinIO's, and the tests' own).
_KNOWN_DEFAULTS = ("minioadmin",)


def _name(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def pod_specs(obj: dict) -> list[tuple[str, dict, list[dict]]]:
    """(where, pod-level spec, containers) for every pod template in a known kind."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        pods = [("spec", spec)]
    elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        pods = [("spec.template.spec", spec.get("template", {}).get("spec", {}))]
    elif kind == "CronJob":
        pods = [("spec.jobTemplate", spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {}))]
    elif kind == "InferenceService":
        predictor = spec.get("predictor", {})
        containers = list(predictor.get("containers", []))
        if "model" in predictor:
            containers.append({"name": "model", **predictor["model"]})
        return [("spec.predictor", predictor, containers)]
    elif kind in ("Workflow", "WorkflowTemplate", "CronWorkflow"):
        workflow = spec.get("workflowSpec", spec) if kind == "CronWorkflow" else spec
        result = []
        for template in workflow.get("templates", []):
            containers = [template[k] for k in ("container", "script") if k in template]
            containers += template.get("initContainers", []) + template.get("sidecars", [])
            containers += template.get("containerSet", {}).get("containers", [])
            if containers:
                # Argo merges the workflow's pod securityContext with the template's.
                pod = {"securityContext": {**workflow.get("securityContext", {}),
                                           **template.get("securityContext", {})}}
                result.append((f"templates[{template.get('name')}]", pod, containers))
        return result
    else:
        return []
    return [(where, pod, pod.get("initContainers", []) + pod.get("containers", [])) for where, pod in pods]


def _image_problem(image: str | None) -> str | None:
    if image is None:
        return None  # filled in by an operator (e.g. KServe's runtime); nothing to pin here
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (means latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the latest tag"
    return None


def container_violations(obj: dict) -> list[str]:
    problems = []
    for where, pod, containers in pod_specs(obj):
        pod_non_root = (pod.get("securityContext") or {}).get("runAsNonRoot") is True
        for container in containers:
            label = f"{_name(obj)} {where} container {container.get('name')}"
            sc = container.get("securityContext") or {}
            if sc.get("privileged") is True:
                problems.append(f"{label}: privileged")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{label}: allowPrivilegeEscalation is not false")
            if not (sc.get("runAsNonRoot") is True or (pod_non_root and sc.get("runAsNonRoot") is not False)):
                problems.append(f"{label}: runAsNonRoot is not set")
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                missing = [r for r in ("cpu", "memory") if r not in (resources.get(part) or {})]
                if missing:
                    problems.append(f"{label}: no {part} for {', '.join(missing)}")
            image_problem = _image_problem(container.get("image"))
            if image_problem:
                problems.append(f"{label}: {image_problem}")
    return problems


def _strings(node: object, path: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def _env_lists(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                yield value
            else:
                yield from _env_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from _env_lists(value)


def credential_violations(obj: dict, forbidden: tuple[str, ...] = ()) -> list[str]:
    problems = []
    if obj.get("kind") == "Secret" and (obj.get("data") or obj.get("stringData")):
        problems.append(f"{_name(obj)}: a Secret with data is rendered (credentials belong outside manifests)")
    for env in _env_lists(obj):
        for var in env:
            if isinstance(var, dict) and _CREDENTIAL_ENV.search(var.get("name", "")) and "value" in var:
                problems.append(f"{_name(obj)}: env {var['name']} has a literal value; use valueFrom.secretKeyRef")
    for path, text in _strings(obj):
        if _AWS_KEY_ID.search(text):
            problems.append(f"{_name(obj)}{path}: looks like an AWS access key id")
        for secret in (*_KNOWN_DEFAULTS, *forbidden):
            if secret and secret in text:
                problems.append(f"{_name(obj)}{path}: contains the known credential {secret!r}")
    return problems


def baseline_violations(objects: list[dict], forbidden: tuple[str, ...] = ()) -> list[str]:
    return [p for obj in objects for p in container_violations(obj) + credential_violations(obj, forbidden)]


def assert_baseline(objects: list[dict], forbidden: tuple[str, ...] = ()) -> None:
    problems = baseline_violations(objects, forbidden)
    assert not problems, f"{len(problems)} security baseline violation(s):\n  " + "\n  ".join(problems[:40])
