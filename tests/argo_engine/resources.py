"""Resource templates, with a pluggable fake controller per "group/version/Kind".

Source: argo-workflows workflow/executor/resource.go and docs/walk-through/kubernetes-resources.md:
the manifest is applied with `action` (create, apply, get, delete, patch, replace); with a
successCondition/failureCondition the executor polls the resource: conditions are label-selector
style requirements on the resource's JSON (`status.succeeded > 0`, `status.phase == Failed`,
several joined by commas) — failureCondition is checked first; outputs come from
`valueFrom.jsonPath` (kubectl JSONPath) or `valueFrom.jqFilter`. The engine has no API server: a
test registers a controller for the kind, `controller(action, manifest) -> object`, called again
on each poll with action "get" (it decides how the object's status evolves); an exception it raises
is the API server refusing: the node fails with its message, as `argoexec resource` exits non-zero.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import yaml

from .model import ERROR, FAILED, SUCCEEDED
from .substitution import replace

POLL_SECONDS = 0.05


class ResourceError(Exception):
    pass


def _lookup(obj, path: str):
    for part in path.split("."):
        if isinstance(obj, list) and part.isdigit():
            obj = obj[int(part)] if int(part) < len(obj) else None
        elif isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


_REQ = re.compile(r"^\s*(?P<key>[\w.\-\[\]]+)\s*(?P<op>==|!=|=|>|<|in|notin)?\s*(?P<val>.*?)\s*$")


def requirements(condition: str) -> list[str]:
    """The comma-joined requirements of a condition; commas inside `in (a,b)` sets stay (labels.Parse)."""
    parts, depth, current = [], 0, ""
    for char in condition:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p for p in [*parts, current] if p.strip()]


def failure_met(condition: str, obj: dict) -> str | None:
    """The first requirement of a failureCondition that holds: Argo fails the step on ANY one of them
    (workflow/executor/resource.go, matchConditions: `for _, req := range failReqs { if req.Matches(ls) ...`),
    while a successCondition needs all of its requirements (numMatched >= len(successReqs))."""
    return next((req for req in requirements(condition) if condition_met(req, obj)), None)


def condition_met(condition: str, obj: dict) -> bool:
    """Every requirement of a comma-joined list holds (how a successCondition is judged)."""
    for req in requirements(condition):
        match = _REQ.match(req)
        if not match:
            raise ResourceError(f"cannot parse condition {condition!r}")
        key, op, val = match["key"], match["op"], match["val"]
        actual = _lookup(obj, key)
        if op is None:
            if actual is None:
                return False
            continue
        if actual is None:
            return False
        text = json.dumps(actual) if isinstance(actual, (dict, list)) else (
            str(actual).lower() if isinstance(actual, bool) else str(actual))
        if op in ("==", "="):
            if text != val:
                return False
        elif op == "!=":
            if text == val:
                return False
        elif op in (">", "<"):
            try:
                a, b = float(text), float(val)
            except ValueError:
                return False
            if (op == ">" and not a > b) or (op == "<" and not a < b):
                return False
        elif op in ("in", "notin"):
            options = [v.strip() for v in val.strip("()").split(",")]
            if (text in options) != (op == "in"):
                return False
    return True


def jsonpath_value(obj: dict, path: str) -> str:
    """kubectl's `{.a.b}` JSONPath for the simple field paths Argo users write."""
    inner = path.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    value = _lookup(obj, inner.lstrip("."))
    if value is None:
        raise ResourceError(f"jsonPath {path} not found in the resource")
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def jq_value(obj: dict, jq_filter: str) -> str:
    if not shutil.which("jq"):
        raise ResourceError("jqFilter needs the jq binary on PATH")
    proc = subprocess.run(["jq", "-c", jq_filter], input=json.dumps(obj), capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise ResourceError(f"jqFilter {jq_filter!r} failed: {proc.stderr.strip()}")
    out = proc.stdout.strip()
    return out[1:-1] if out.startswith('"') and out.endswith('"') else out


def run_resource(tmpl: dict, scope, controllers: dict, namespace: str, workflow: str,
                 deadline: float) -> tuple[str, str, dict]:
    res = tmpl["resource"]
    manifest = yaml.safe_load(replace(res.get("manifest") or "", scope, allow_unresolved=False))
    if not isinstance(manifest, dict) or "kind" not in manifest:
        raise ResourceError("resource manifest must be a Kubernetes object with apiVersion and kind")
    manifest.setdefault("metadata", {}).setdefault("namespace", namespace)
    if manifest["metadata"].get("generateName") and not manifest["metadata"].get("name"):
        manifest["metadata"]["name"] = manifest["metadata"]["generateName"] + f"{abs(hash(workflow)) % 10**5:05d}"
    kind = f"{manifest.get('apiVersion', '')}/{manifest['kind']}"
    controller = controllers.get(kind)
    if controller is None:
        raise ResourceError(f"no fake controller for {kind} (register one in resource_controllers)")
    action = res.get("action")
    if action not in ("create", "apply", "get", "delete", "patch", "replace"):
        raise ResourceError(f"resource action {action!r} is not one of create, apply, get, delete, patch, replace")
    try:
        obj = controller(action, manifest)
    except Exception as exc:  # noqa: BLE001 - the API server refused: `argoexec resource` exits non-zero
        return FAILED, f"{action} {kind} {manifest['metadata'].get('name')}: {exc}", {}
    success, failure = res.get("successCondition"), res.get("failureCondition")
    if action != "delete" and (success or failure):
        while True:
            if failure and (matched := failure_met(failure, obj)):
                # argoexec's own message (resource.go: "failure condition '%s' evaluated %v").
                return FAILED, f"failure condition '{matched.strip()}' evaluated true", _outputs(tmpl, obj)
            if success and condition_met(success, obj):
                break
            if time.time() > deadline:
                return FAILED, "Pod was active on the node longer than the specified deadline", {}
            time.sleep(POLL_SECONDS)
            try:
                obj = controller("get", manifest)
            except Exception as exc:  # noqa: BLE001 - as a failed `kubectl get` in the executor
                return FAILED, f"get {kind} {manifest['metadata'].get('name')}: {exc}", {}
    try:
        return SUCCEEDED, "", _outputs(tmpl, obj)
    except ResourceError as exc:
        return ERROR, str(exc), {}


def _outputs(tmpl: dict, obj: dict) -> dict:
    params = []
    for param in (tmpl.get("outputs") or {}).get("parameters") or []:
        value_from = param.get("valueFrom") or {}
        if "jsonPath" in value_from:
            value = jsonpath_value(obj or {}, value_from["jsonPath"])
        elif "jqFilter" in value_from:
            value = jq_value(obj or {}, value_from["jqFilter"])
        else:
            continue
        params.append({"name": param["name"], "value": value})
    return {"parameters": params} if params else {}


class KubernetesObjects:
    """An in-memory object store standing in for the API server, for kinds with no controller logic.

    `create` fails on an existing name (AlreadyExists), `get`/`delete`/`patch` on a missing one
    (NotFound), `apply` creates or replaces, `patch` merges (JSON merge patch, RFC 7386). Objects keep
    whatever `status` the manifest has, so success/failure conditions see only that.
    """

    def __init__(self):
        import threading

        self.lock = threading.Lock()
        self.objects: dict[tuple, dict] = {}

    def __call__(self, action: str, manifest: dict) -> dict:
        meta = manifest.get("metadata") or {}
        key = (manifest.get("apiVersion"), manifest.get("kind"), meta.get("namespace"), meta.get("name"))
        with self.lock:
            current = self.objects.get(key)
            if action == "create":
                if current is not None:
                    raise ResourceError(f"{manifest['kind']} {meta.get('name')!r} already exists")
                self.objects[key] = json.loads(json.dumps(manifest))
            elif action in ("apply", "replace"):
                self.objects[key] = json.loads(json.dumps(manifest))
            elif current is None:
                raise ResourceError(f"{manifest['kind']} {meta.get('name')!r} not found")
            elif action == "delete":
                return self.objects.pop(key)
            elif action == "patch":
                self.objects[key] = _merge_patch(current, manifest)
            return json.loads(json.dumps(self.objects[key]))


def _merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out
