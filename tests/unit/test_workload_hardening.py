"""Every workload Portway renders runs hardened: non-root, no privilege escalation, all
capabilities dropped, a read-only root filesystem where the software allows it; and the
component image runs as a numeric non-root user from a pinned base.

Covers the compiled Argo workflows (every pipeline), every chart's ci scenarios, the kustomize
manifests' files and the Dockerfile; each part skips with a reason while it is not in the tree.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from security_baseline import pod_specs

REPO = Path(__file__).resolve().parents[2]

# Containers that may keep a writable root filesystem, and why. Anything else must be read-only.
WRITABLE_ROOT_ALLOWED = {
    # MLServer writes its metrics and environments folders under its working directory, and
    # KServe owns the predictor pod's volumes, so the chart cannot mount a writable one there.
    ("InferenceService", "model"): "MLServer needs a writable working directory",
}


def hardening_problems(obj: dict) -> list[str]:
    problems = []
    for where, pod, containers in pod_specs(obj):
        pod_context = pod.get("securityContext") or {}
        for container in containers:
            label = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')} {where} {container.get('name') or ''}"
            context = container.get("securityContext") or {}
            merged = {**pod_context, **context}  # a container's setting overrides the pod's
            if merged.get("runAsNonRoot") is not True:
                problems.append(f"{label}: runAsNonRoot is not true")
            if merged.get("runAsUser") == 0:
                problems.append(f"{label}: runAsUser 0")
            if context.get("privileged") is True:
                problems.append(f"{label}: privileged")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{label}: allowPrivilegeEscalation is not false")
            if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{label}: capabilities are not all dropped")
            if (context.get("capabilities") or {}).get("add"):
                problems.append(f"{label}: adds capabilities {context['capabilities']['add']}")
            allowed = (obj.get("kind"), container.get("name")) in WRITABLE_ROOT_ALLOWED
            if context.get("readOnlyRootFilesystem") is not True and not allowed:
                problems.append(f"{label}: the root filesystem is writable")
    return problems


def containers_in(objects: list[dict]) -> int:
    return sum(len(containers) for obj in objects for _, _, containers in pod_specs(obj))


def test_the_check_finds_a_root_container():
    pod = {"kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "securityContext": {"runAsUser": 0}}]}}
    assert len(hardening_problems(pod)) == 5


def test_compiled_argo_workflows_are_hardened():
    import portway.compile as compile_

    workflows = [compile_.compile_argo(compile_.load_pipeline(name), compile_.ArgoOptions(s3_secret="portway-s3"))
                 for name in compile_.PIPELINES]
    assert containers_in(workflows) >= 5
    problems = [p for w in workflows for p in hardening_problems(w)]
    assert problems == [], "\n".join(problems)


def test_rendered_charts_are_hardened():
    charts = sorted(p.parent for p in (REPO / "charts").glob("*/Chart.yaml"))
    assert charts, "no charts found under charts/"
    from portway.devtools.charts import ci_values_files, load_values, render_chart, rendered_objects

    objects = [obj for chart in charts for values in ci_values_files(chart)
               for obj in rendered_objects(render_chart(chart, load_values(values)))]
    assert containers_in(objects) >= 1
    problems = [p for obj in objects for p in hardening_problems(obj)]
    assert problems == [], "\n".join(problems)


def test_manifest_workloads_are_hardened():
    files = sorted((REPO / "manifests").rglob("*.yaml"))
    objects = [d for f in files for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict)]
    assert containers_in(objects), "no workloads found under manifests/"
    problems = [p for obj in objects for p in hardening_problems(obj)]
    assert problems == [], "\n".join(problems)


def dockerfile_problems(text: str) -> tuple[list[str], int | None]:
    """(problems, the final USER's uid) of a Dockerfile: pinned bases, a numeric non-root USER."""
    # Continuation lines joined, comments dropped: one instruction per line.
    text = re.sub(r"\\\n", " ", text)
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    problems = []
    froms = [line.split() for line in instructions if line.upper().startswith("FROM ")]
    if not froms:
        problems.append("no FROM")
    stages = {words[-1] for words in froms if len(words) >= 4 and words[-2].upper() == "AS"}
    # FROM may name a build argument; its default (ARG NAME=value) is what a plain build uses.
    defaults = dict(line.split(None, 1)[1].split("=", 1) for line in instructions
                    if line.upper().startswith("ARG ") and "=" in line)
    for words in froms:
        base = next(w for w in words[1:] if not w.startswith("--"))
        base = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]), base)
        if base in stages or "@sha256:" in base:
            continue
        tag = base.rsplit("/", 1)[-1].partition(":")[2]
        if not tag or tag == "latest":
            problems.append(f"base image {base!r} is not pinned to a tag")
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    if not users:
        problems.append("never switches away from root (no USER)")
        return problems, None
    uid = users[-1].split(":")[0]
    if not uid.isdigit() or int(uid) == 0:
        problems.append(f"USER {users[-1]!r}: use a numeric non-root uid (runAsNonRoot can only verify a number)")
        return problems, None
    return problems, int(uid)


def test_the_dockerfile_check_finds_root_unpinned_and_named_users():
    good = "FROM python:3.11-slim AS build\\\n  \nRUN pip install .\nFROM build\nUSER 10001:10001\n"
    assert dockerfile_problems(good) == ([], 10001)
    assert len(dockerfile_problems("FROM python\nUSER app\n")[0]) == 2
    assert dockerfile_problems("ARG BASE=python:3.11-slim\nFROM ${BASE}\nUSER 10001\n") == ([], 10001)
    assert len(dockerfile_problems("ARG BASE=python\nFROM $BASE\nUSER 10001\n")[0]) == 1
    assert len(dockerfile_problems("FROM python:latest\nUSER 0\n")[0]) == 2
    assert dockerfile_problems("FROM python@sha256:" + "a" * 64 + "\n")[0] == ["never switches away from root (no USER)"]


def test_the_component_image_runs_as_a_numeric_non_root_user_from_a_pinned_base():
    dockerfile = REPO / "Dockerfile"
    assert dockerfile.is_file(), "no Dockerfile at the repository root"
    problems, uid = dockerfile_problems(dockerfile.read_text())
    assert problems == [], problems
    from portway.compile.argo import RUN_AS_USER

    assert uid == RUN_AS_USER, "the workflows' runAsUser and the image's USER differ"
