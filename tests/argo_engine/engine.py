"""The engine: a Workflow in, node statuses out, following Argo's controller (workflow/controller/operator.go).

executeTemplate order, as operator.go: resolve the template (templateDefaults merged), ProcessArgs
(inputs from arguments or defaults, "inputs.parameters.X was not supplied"; globals and
`pod.name` substituted, then inputs), memoization lookup, retry wrapping (a Retry node with
children `name(0)`, `name(1)`… each its own pod name), then the template kind. Exit handlers:
workflow `onExit` / `hooks.exit` runs as `<wf>.onExit` with `workflow.status` and
`workflow.failures`; a task's or step's `onExit` / `hooks.exit` as `<node>.onExit`; expression
hooks run once their expression is true (docs/lifecyclehook.md). The workflow phase is the root
node's; a failed exit handler fails a succeeded workflow (operator.go, markWorkflowPhase).
"""

from __future__ import annotations

import copy
import json
import secrets as pysecrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from . import retry as retrylib
from .artifacts import DEFAULT_KEY_FORMAT, ArtifactError, ArtifactNotFound, S3Repository
from .expressions import ExpressionError, evaluate, to_json
from .govaluate_when import WhenError
from .loops import LoopError
from .memoize import MemoCache, MemoizeError
from .model import (
    ERROR,
    FAILED,
    OMITTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    ImageEnvironment,
    NodeResult,
    NodeStore,
    WorkflowResult,
)
from .outputs import OutputError, leaf_outputs, read_parameter_file
from .pods import (
    SCRIPT_PATH,
    PodError,
    PodFilesystem,
    Sidecar,
    container_command,
    pod_env,
    run_pod,
    visible_dirs,
)
from .resources import ResourceError, run_resource
from .substitution import Scope, UnresolvedError, replace, substitute
from .synchronization import Locks, SyncError
from .validate import ValidationError, validate_workflow

# Argo's node-level error: an error creating or running a node (not the container's exit code).
NodeError = (UnresolvedError, ExpressionError, WhenError, LoopError, PodError, ArtifactError, OutputError,
             MemoizeError, retrylib.RetryConfigError, ResourceError, ValidationError, SyncError)


TEMPLATE_KINDS = ("container", "script", "dag", "steps", "resource", "suspend", "containerSet", "data", "http",
                  "plugin")


def fnv32a(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def pod_name(workflow: str, node_name: str, template: str) -> str:
    """util/pod_name.go GeneratePodName (POD_NAMES=v2): `<wf>-<template>-<fnv32a(node name)>`."""
    if workflow == node_name:
        return workflow
    prefix = f"{workflow}-{template}"
    if len(prefix) > 253 - 11:
        prefix = prefix[:253 - 11]
    return f"{prefix}-{fnv32a(node_name)}"


class ArgoEngine:
    def __init__(self, workdir: Path, images: Callable[[str], ImageEnvironment] | dict[str, ImageEnvironment],
                 artifact_repository: dict | None = None, secrets: dict[str, dict[str, str]] | None = None,
                 configmaps: dict[str, dict[str, str]] | None = None,
                 resource_controllers: dict[str, Callable] | None = None, parallelism: int = 2,
                 namespace: str = "argo", workflow_templates: list[dict] | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.images = images
        self.artifact_repository = artifact_repository
        self.secrets = dict(secrets or {})
        self.configmaps = dict(configmaps or {})
        self.resource_controllers = dict(resource_controllers or {})
        self.parallelism = parallelism
        self.namespace = namespace
        # WorkflowTemplate / ClusterWorkflowTemplate objects, as if created in the cluster beforehand
        self.workflow_templates = {(t.get("kind"), t["metadata"]["name"]): t for t in workflow_templates or []}
        self.memo = MemoCache()
        self.locks = Locks(self.configmaps)
        self.pod_slots = threading.BoundedSemaphore(parallelism)

    def image(self, ref: str) -> ImageEnvironment:
        if callable(self.images):
            env = self.images(ref)
        else:
            env = self.images.get(ref) or self.images.get(ref.split("@")[0].rsplit(":", 1)[0])
        if env is None:
            raise PodError(f"no ImageEnvironment for image {ref!r}")
        return env

    def with_workflow_template(self, workflow: dict) -> dict:
        """spec.workflowTemplateRef (docs/workflow-templates.md): the WorkflowTemplate's spec, the
        workflow's own fields over it, its arguments merged by name."""
        spec = workflow.get("spec") or {}
        ref = spec.get("workflowTemplateRef")
        if not ref:
            return workflow
        kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
        owner = self.workflow_templates.get((kind, ref.get("name")))
        if owner is None:
            raise ValidationError(f"{kind}.argoproj.io \"{ref.get('name')}\" not found")
        merged = copy.deepcopy(owner.get("spec") or {})
        own = {k: v for k, v in spec.items() if k != "workflowTemplateRef"}
        params = {p["name"]: p for p in (merged.get("arguments") or {}).get("parameters") or []}
        for param in (own.get("arguments") or {}).get("parameters") or []:
            params[param["name"]] = {**params.get(param["name"], {}), **param}
        merged.update({k: v for k, v in own.items() if k != "arguments"})
        merged["arguments"] = {**(merged.get("arguments") or {}), **(own.get("arguments") or {}),
                               "parameters": list(params.values())}
        workflow["spec"] = merged
        return workflow

    def referenced_template(self, ref: dict) -> dict:
        """templateRef (docs/workflow-templates.md): a template of a (Cluster)WorkflowTemplate; the names it
        refers to are resolved in that WorkflowTemplate, as the controller's template scope does."""
        kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
        owner = self.workflow_templates.get((kind, ref.get("name")))
        if owner is None:
            raise ValidationError(f"{kind}.argoproj.io \"{ref.get('name')}\" not found")
        found = [t for t in (owner.get("spec") or {}).get("templates") or [] if t.get("name") == ref.get("template")]
        if not found:
            raise ValidationError(f"template {ref.get('template')!r} not found in {kind} {ref.get('name')!r}")
        return _scoped(copy.deepcopy(found[0]), {"name": ref["name"], **({"clusterScope": True}
                                                                          if ref.get("clusterScope") else {})})

    def run(self, workflow: dict, parameters: dict[str, str] | None = None, timeout: float = 600) -> WorkflowResult:
        workflow = copy.deepcopy(workflow)
        try:
            workflow = self.with_workflow_template(workflow)
        except ValidationError as exc:
            name = (workflow.get("metadata") or {}).get("name") or "workflow"
            return WorkflowResult(name, FAILED, f"invalid spec: {exc}", [], {})
        run = Run(self, workflow, dict(parameters or {}), timeout)
        try:
            with self.locks.held((workflow.get("spec") or {}).get("synchronization"), self.namespace):
                return run.execute()
        except SyncError as exc:
            return WorkflowResult(run.name, ERROR, str(exc), [], {})


class Run:
    """One workflow's execution (the controller's wfOperationCtx)."""

    def __init__(self, engine: ArgoEngine, wf: dict, parameters: dict[str, str], timeout: float):
        self.engine = engine
        self.wf = wf
        self.spec = wf.get("spec") or {}
        meta = wf.setdefault("metadata", {})
        if not meta.get("name"):
            alphabet = "bcdfghjklmnpqrstvwxz2456789"
            meta["name"] = (meta.get("generateName") or "workflow-") + "".join(
                pysecrets.choice(alphabet) for _ in range(5))
        self.name = meta["name"]
        self.parameters = parameters
        self.deadline = time.time() + timeout
        if self.spec.get("activeDeadlineSeconds"):
            # the workflow's deadline bounds every pod (operator.go workflowDeadline)
            self.deadline = min(self.deadline, time.time() + float(self.spec["activeDeadlineSeconds"]))
        self.nodes = NodeStore()
        self.templates = {t["name"]: t for t in self.spec.get("templates") or []}
        self.globals = Scope()
        self.global_outputs: dict[str, list] = {"parameters": [], "artifacts": []}
        self.fired_hooks: set[str] = set()
        self.thread_scope = threading.local()  # the scope of the task/step a thread is running
        self.lock = threading.RLock()
        self.wf_slots = threading.BoundedSemaphore(int(self.spec["parallelism"])) if self.spec.get(
            "parallelism") else None
        self.rundir = engine.workdir / self.name
        self.rundir.mkdir(parents=True, exist_ok=True)
        self.repo_config = self.artifact_repository_config()
        self.repo = S3Repository(self.repo_config["s3"], engine.secrets) if (
            self.repo_config and "s3" in self.repo_config) else None
        self.created = datetime.now(UTC).replace(microsecond=0)

    def artifact_repository_config(self) -> dict | None:
        """spec.artifactRepositoryRef (docs/artifact-repository-ref.md): a key of a ConfigMap (default name
        `artifact-repositories`) holding the repository as YAML; otherwise the engine's default repository."""
        ref = self.spec.get("artifactRepositoryRef")
        if not ref:
            return self.engine.artifact_repository
        import yaml

        name = ref.get("configMap") or "artifact-repositories"
        data = self.engine.configmaps.get(name) or {}
        if ref.get("key") not in data:
            self.repo_error = f"artifact repository ref: ConfigMap {name!r} has no key {ref.get('key')!r}"
            return None
        return yaml.safe_load(data[ref["key"]])

    # -- run ------------------------------------------------------------------------------------------------------
    def execute(self) -> WorkflowResult:
        try:
            self.args = validate_workflow(self.wf, self.parameters, self.engine.configmaps)
        except ValidationError as exc:
            return WorkflowResult(self.name, FAILED, f"invalid spec: {exc}", [], {})
        self.set_globals()
        entry = self.spec.get("entrypoint")
        running_hooks = threading.Thread(target=self.run_workflow_hooks, args=(RUNNING,), daemon=True)
        running_hooks.start()  # beside the workflow, as the controller starts them while it runs
        root = self.execute_template(self.name, {"template": entry}, {"parameters": self.args["parameters"],
                                                                     "artifacts": self.args["artifacts"]},
                                     boundary="")
        phase, message = root.phase, root.message
        if phase in (SKIPPED, OMITTED):
            phase = SUCCEEDED
        exit_hook = (self.spec.get("hooks") or {}).get("exit") or (
            {"template": self.spec["onExit"]} if self.spec.get("onExit") else None)
        running_hooks.join()
        self.set_status_globals(phase)
        self.run_workflow_hooks(phase)
        if exit_hook:
            exit_node = self.execute_template(f"{self.name}.onExit", exit_hook, exit_hook.get("arguments") or {},
                                              boundary="", on_exit=True)
            if phase == SUCCEEDED and exit_node.phase in (FAILED, ERROR):
                phase, message = exit_node.phase, exit_node.message
        outputs = {k: v for k, v in self.global_outputs.items() if v}
        return WorkflowResult(self.name, phase, message, list(self.nodes.by_name.values()), outputs)

    def set_globals(self) -> None:
        meta = self.wf["metadata"]
        g = self.globals
        g.set("workflow.name", self.name)
        g.set("workflow.namespace", self.engine.namespace)
        g.set("workflow.mainEntrypoint", self.spec.get("entrypoint", ""))
        g.set("workflow.serviceAccountName", self.spec.get("serviceAccountName", ""))
        g.set("workflow.uid", f"uid-{fnv32a(self.name):08x}")
        g.set("workflow.creationTimestamp", self.created.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for char in "aAbBcCdDeFgGhHIjklmMnprRsStTuUVwWxXyYzZ":
            try:
                g.set(f"workflow.creationTimestamp.{char}", self.created.strftime(f"%{char}"))
            except ValueError:
                pass
        g.set("workflow.creationTimestamp.s", str(int(self.created.timestamp())))
        g.set("workflow.creationTimestamp.RFC3339", self.created.strftime("%Y-%m-%dT%H:%M:%SZ"))
        g.set("workflow.priority", str(self.spec.get("priority", 0)))
        params = self.args["parameters"]
        for p in params:
            g.set(f"workflow.parameters.{p['name']}", str(p.get("value", "")))
        # operator.go setGlobalParameters: the parameters as JSON, as workflow.parameters and .json
        as_json = to_json([{k: v for k, v in p.items() if k != "valueFrom"} for p in params])
        g.set("workflow.parameters", as_json)
        g.set("workflow.parameters.json", as_json)
        for kind in ("annotations", "labels"):
            values = dict(meta.get(kind) or {})
            values.update((self.spec.get("workflowMetadata") or {}).get(kind) or {})
            for key, value in values.items():
                g.set(f"workflow.{kind}.{key}", str(value))
            g.set(f"workflow.{kind}", to_json(values))

    def set_status_globals(self, phase: str) -> None:
        failures = [{"displayName": n.display_name, "message": n.message, "templateName": n.template_name or "",
                     "phase": n.phase, "podName": n.pod_name or n.id,
                     "finishedAt": datetime.fromtimestamp(n.finished, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
                    for n in self.nodes.by_name.values() if n.phase in (FAILED, ERROR)]
        self.globals.set("workflow.status", phase)
        self.globals.set("workflow.failures", to_json(failures) if failures else "null")
        self.globals.set("workflow.duration", str(time.time() - self.created.timestamp()))

    def run_workflow_hooks(self, status: str) -> None:
        """Workflow-level expression hooks (docs/lifecyclehook.md), each run once when true."""
        hooks = {k: v for k, v in (self.spec.get("hooks") or {}).items() if k != "exit"}
        done = getattr(self, "_done_hooks", set())
        self._done_hooks = done
        for name, hook in hooks.items():
            if name in done:
                continue
            scope = self.globals.merged(Scope({"workflow.status": status}))
            expression = replace(hook.get("expression", ""), scope, allow_unresolved=True)
            try:
                fire = evaluate(expression, scope.expression_env()) is True if expression else False
            except ExpressionError:
                fire = False
            if fire:
                done.add(name)
                self.execute_template(f"{self.name}.hooks.{name}", hook, hook.get("arguments") or {}, boundary="",
                                      on_exit=True, hooked=True)

    # -- nodes ----------------------------------------------------------------------------------------------------
    def display_of(self, name: str, boundary: str) -> str:
        """initializeNode: the name without the boundary node's name and a leading `[n].` or `.`."""
        bnode = self.nodes.by_id(boundary) if boundary else None
        if bnode is None:
            return name
        import re

        display = name[len(bnode.name):] if name.startswith(bnode.name) else name
        return re.sub(r"^(\[\d+\])?\.", "", display)

    def new_node(self, name: str, node_type: str, template: str | None, boundary: str, phase: str = RUNNING,
                 message: str = "", display: str | None = None) -> NodeResult:
        node_id = self.name if name == self.name else f"{self.name}-{fnv32a(name)}"
        node = NodeResult(id=node_id, name=name, display_name=display or self.display_of(name, boundary),
                          type=node_type, template_name=template, phase=phase, message=message, boundary=boundary,
                          started=time.time())
        if phase != RUNNING:
            node.finished = node.started
        return self.nodes.add(node)

    def finish(self, node: NodeResult, phase: str, message: str = "") -> NodeResult:
        node.phase = phase
        if message or phase != SUCCEEDED:
            node.message = message or node.message
        node.finished = time.time()
        return node

    # -- templates ------------------------------------------------------------------------------------------------
    def resolve_template(self, holder: dict) -> dict:
        if holder.get("inline"):
            tmpl = copy.deepcopy(holder["inline"])
            tmpl.setdefault("name", "")
        elif holder.get("templateRef"):
            tmpl = self.engine.referenced_template(holder["templateRef"])
        else:
            name = holder.get("template")
            if name not in self.templates:
                raise ValidationError(f"template name '{name}' undefined")
            tmpl = copy.deepcopy(self.templates[name])
        defaults = self.spec.get("templateDefaults")
        if defaults:
            # operator.go mergedTemplateDefaultsInto: merge, then SetType keeps only the template's own kind
            kind = next((k for k in TEMPLATE_KINDS if k in tmpl), None)
            tmpl = _merge(copy.deepcopy(defaults), tmpl)
            for other in TEMPLATE_KINDS:
                if other != kind:
                    tmpl.pop(other, None)
        return tmpl

    def process_args(self, tmpl: dict, args: dict, local: Scope) -> dict:
        """common.ProcessArgs: inputs from arguments or defaults, then substitution (unresolved allowed)."""
        inputs = tmpl.setdefault("inputs", {})
        for param in inputs.get("parameters") or []:
            arg = next((a for a in args.get("parameters") or [] if a.get("name") == param["name"]), None)
            if "value" not in param and "default" in param:
                param["value"] = param["default"]
            if arg is not None and "value" in arg:
                param["value"] = arg["value"]
            elif arg is not None and arg.get("valueFrom"):
                param["valueFrom"] = arg["valueFrom"]
            cm = (param.get("valueFrom") or {}).get("configMapKeyRef")
            if cm:
                try:
                    param["value"] = self.engine.configmaps[cm["name"]][cm["key"]]
                except KeyError:
                    if "default" not in param["valueFrom"]:
                        raise UnresolvedError(f"configmap {cm.get('name')!r} has no key {cm.get('key')!r}") from None
                    param["value"] = param["valueFrom"]["default"]
            if "value" not in param:
                raise UnresolvedError(f"inputs.parameters.{param['name']} was not supplied")
            param["value"] = _string(param["value"])
        for index, art in enumerate(inputs.get("artifacts") or []):
            if _has_location(art):
                continue
            arg = next((a for a in args.get("artifacts") or [] if a.get("name") == art["name"]), None)
            if arg is None:
                if not art.get("optional"):
                    raise UnresolvedError(f"inputs.artifacts.{art['name']} was not supplied")
                continue
            merged = {**arg, "path": art.get("path"), "name": art["name"]}
            if art.get("optional"):
                merged["optional"] = True
            if "mode" in art:
                merged["mode"] = art["mode"]
            inputs["artifacts"][index] = merged
        first = substitute(tmpl, self.globals.merged(local), allow_unresolved=True)
        scope = Scope()
        for param in (first.get("inputs") or {}).get("parameters") or []:
            scope.set(f"inputs.parameters.{param['name']}", param["value"])
        scope.set("inputs.parameters", to_json([{k: v for k, v in p.items() if k in ("name", "value", "default",
                                                                                           "enum", "description")}
                                                 for p in (first.get("inputs") or {}).get("parameters") or []]))
        for art in (first.get("inputs") or {}).get("artifacts") or []:
            if art.get("path"):
                scope.set(f"inputs.artifacts.{art['name']}.path", art["path"])
        for art in (first.get("outputs") or {}).get("artifacts") or []:
            if art.get("path"):
                scope.set(f"outputs.artifacts.{art['name']}.path", art["path"])
        for param in (first.get("outputs") or {}).get("parameters") or []:
            if (param.get("valueFrom") or {}).get("path"):
                scope.set(f"outputs.parameters.{param['name']}.path", param["valueFrom"]["path"])
        return substitute(first, scope, allow_unresolved=True)

    def execute_template(self, node_name: str, holder: dict, args: dict, boundary: str, display: str | None = None,
                         on_exit: bool = False, hooked: bool = False) -> NodeResult:
        try:
            tmpl = self.resolve_template(holder)
        except ValidationError as exc:
            return self.new_node(node_name, "Skipped", holder.get("template"), boundary, ERROR, str(exc), display)
        tmpl_name = tmpl.get("name") or holder.get("template")
        # `retryStrategy: {}` is a strategy (no limit: retry until success, examples/retry-to-completion)
        strategy = tmpl["retryStrategy"] if tmpl.get("retryStrategy") is not None else self.spec.get("retryStrategy")
        local = Scope({"pod.name": pod_name(self.name, node_name, tmpl_name), "node.name": node_name})
        try:
            processed = self.process_args(copy.deepcopy(tmpl), args, local)
        except NodeError as exc:
            return self.new_node(node_name, _type_of(tmpl), tmpl_name, boundary, ERROR, str(exc), display)
        memo = processed.get("memoize")
        if memo:
            try:
                cache_name = memo["cache"]["configMap"]["name"]
                cached = self.engine.memo.load(cache_name, str(memo["key"]), memo.get("maxAge"))
            except (NodeError, KeyError, TypeError) as exc:
                return self.new_node(node_name, _type_of(tmpl), tmpl_name, boundary, ERROR,
                                     f"memoize: {exc}", display)
            if cached is not None:
                node = self.new_node(node_name, _type_of(tmpl), tmpl_name, boundary, SUCCEEDED, "", display)
                node.memoized, node.outputs = True, cached
                node.inputs = processed.get("inputs") or {}
                self.add_global_outputs(cached)
                return node
        try:
            with self.engine.locks.held(processed.get("synchronization"), self.engine.namespace):
                if strategy is not None:
                    node = self.run_retries(node_name, tmpl, tmpl_name, args, boundary, strategy, display)
                else:
                    node = self.execute_kind(node_name, processed, tmpl_name, boundary, display)
        except SyncError as exc:
            return self.new_node(node_name, _type_of(tmpl), tmpl_name, boundary, ERROR, str(exc), display)
        node.hooked = hooked
        if memo and node.phase == SUCCEEDED:
            try:
                self.engine.memo.save(memo["cache"]["configMap"]["name"], str(memo["key"]), node.id, node.outputs)
            except MemoizeError as exc:
                self.finish(node, ERROR, str(exc))
        if node.phase == SUCCEEDED:
            self.add_global_outputs(node.outputs)
        return node

    def run_retries(self, node_name, tmpl, tmpl_name, args, boundary, strategy, display) -> NodeResult:
        parent = self.new_node(node_name, "Retry", tmpl_name, boundary, display=display)
        attempts: list[NodeResult] = []
        while True:
            child_name = f"{node_name}({len(attempts)})"
            local = Scope({"pod.name": pod_name(self.name, child_name, tmpl_name), "node.name": child_name,
                           "retries": str(len(attempts))})
            try:
                processed = self.process_args(copy.deepcopy(tmpl), args, local)
                processed.pop("retryStrategy", None)
                child = self.execute_kind(child_name, processed, tmpl_name, boundary, None)
            except NodeError as exc:
                child = self.new_node(child_name, _type_of(tmpl), tmpl_name, boundary, ERROR, str(exc))
            self.nodes.add_child(parent.name, child.id)
            attempts.append(child)
            parent.attempts = len(attempts)
            parent.inputs = child.inputs
            if child.phase == SUCCEEDED:
                parent.outputs = copy.deepcopy(child.outputs)
                return self.finish(parent, SUCCEEDED)
            try:
                again, message, wait = retrylib.decide(
                    strategy, attempts, time.time(),
                    lambda expr, values: evaluate(expr, Scope(values).merged(self.globals).expression_env()))
            except retrylib.RetryConfigError as exc:
                return self.finish(parent, ERROR, str(exc))
            if not again:
                parent.outputs = copy.deepcopy(child.outputs)
                return self.finish(parent, child.phase, message)
            time.sleep(max(0.0, min(wait, self.deadline - time.time())))

    def execute_kind(self, node_name: str, tmpl: dict, tmpl_name: str, boundary: str, display) -> NodeResult:
        if tmpl.get("daemon"):
            return self.new_node(node_name, "Pod", tmpl_name, boundary, ERROR,
                                 "daemon templates are not emulated (a daemoned step keeps running beside the "
                                 "steps after it)", display)
        if "dag" in tmpl:
            return self.run_dag(node_name, tmpl, tmpl_name, boundary, display)
        if "steps" in tmpl:
            return self.run_steps(node_name, tmpl, tmpl_name, boundary, display)
        if "suspend" in tmpl:
            node = self.new_node(node_name, "Suspend", tmpl_name, boundary, display=display)
            duration = (tmpl["suspend"] or {}).get("duration")
            if duration in (None, ""):
                return self.finish(node, ERROR, "suspend without duration needs a user to resume it (not emulated)")
            time.sleep(retrylib.parse_duration(duration))
            node.inputs = tmpl.get("inputs") or {}
            return self.finish(node, SUCCEEDED)
        if any(k in tmpl for k in ("container", "script", "resource")):
            return self.run_pod_node(node_name, tmpl, tmpl_name, boundary, display)
        kinds = [k for k in ("containerSet", "data", "http", "plugin") if k in tmpl]
        return self.new_node(node_name, "Pod", tmpl_name, boundary, ERROR,
                             f"template kind {kinds or list(tmpl)} is not supported by this engine", display)

    # -- pods -----------------------------------------------------------------------------------------------------
    def run_pod_node(self, node_name, tmpl, tmpl_name, boundary, display) -> NodeResult:
        node = self.new_node(node_name, "Pod", tmpl_name, boundary, display=display)
        node.pod_name = pod_name(self.name, node_name, tmpl_name)
        node.inputs = tmpl.get("inputs") or {}
        slots = [s for s in (self.wf_slots, self.engine.pod_slots) if s is not None]
        for slot in slots:
            slot.acquire()
        try:
            return self._run_pod(node, tmpl)
        except NodeError as exc:
            return self.finish(node, ERROR, str(exc))
        finally:
            for slot in reversed(slots):
                slot.release()

    def _run_pod(self, node: NodeResult, tmpl: dict) -> NodeResult:
        podscope = self.globals.merged(Scope({"pod.name": node.pod_name}))
        podroot = self.rundir / "pods" / node.pod_name
        fs = PodFilesystem(podroot)
        if "resource" in tmpl:
            return self._finish_resource(node, tmpl, podscope)
        spec = tmpl.get("container") or tmpl.get("script")
        script_source = tmpl["script"].get("source", "") if "script" in tmpl else None
        image_ref = spec.get("image") or ""
        image = self.engine.image(image_ref)
        # volumes: template volumes, then the workflow's (substituted with the scope they were given)
        volumes = {v["name"]: v for v in (self.resolved_volumes() + (tmpl.get("volumes") or []))}
        for mount in spec.get("volumeMounts") or []:
            volume = volumes.get(mount["name"])
            if volume is None:
                raise PodError(f"volume {mount['name']!r} is not defined")
            fs.add(mount["mountPath"], self.volume_dir(volume, podroot, mount))
        for host in visible_dirs(image):
            fs.show(host)
        if script_source is not None:
            script = fs.host_path(SCRIPT_PATH)
            script.parent.mkdir(parents=True, exist_ok=True)
            script.write_text(script_source)
            script.chmod(0o755)  # executor.go StageFiles writes the script source with mode 0o755
        self.load_inputs(tmpl, fs)
        for param in (tmpl.get("outputs") or {}).get("parameters") or []:
            path = (param.get("valueFrom") or {}).get("path")
            if path and path not in fs.collect:
                fs.collect.append(path)
        for art in (tmpl.get("outputs") or {}).get("artifacts") or []:
            if art.get("path") and art["path"] not in fs.collect:
                fs.collect.append(art["path"])
        env = pod_env(image, self.container_env(spec.get("env") or [], node))
        argv = container_command(spec, image, image_ref, script_source)
        deadline = None
        for key in ("activeDeadlineSeconds", "timeout"):
            if tmpl.get(key) not in (None, ""):
                value = retrylib.parse_duration(tmpl[key])
                deadline = value if deadline is None else min(deadline, value)
        remaining = self.deadline - time.time()
        deadline = remaining if deadline is None else min(deadline, remaining)
        for init in tmpl.get("initContainers") or []:
            init_image = self.engine.image(init.get("image") or image_ref)
            for host in visible_dirs(init_image):
                fs.show(host)
            run = run_pod(fs, container_command(init, init_image, init.get("image", ""), None),
                          pod_env(init_image, self.container_env(init.get("env") or [], node)),
                          init.get("workingDir"), deadline)
            if run.exit_code != 0:
                return self.finish(node, FAILED, f"init container failed with exit code {run.exit_code}")
        sidecars = []
        for car in tmpl.get("sidecars") or []:
            car_image = self.engine.image(car.get("image") or "")
            for host in visible_dirs(car_image):
                fs.show(host)
            for mount in car.get("volumeMounts") or []:
                volume = volumes.get(mount["name"])
                if volume is None:
                    raise PodError(f"volume {mount['name']!r} is not defined")
                fs.add(mount["mountPath"], self.volume_dir(volume, podroot, mount))
            sidecars.append(Sidecar(car["name"], container_command(car, car_image, car.get("image", ""), None),
                                    pod_env(car_image, self.container_env(car.get("env") or [], node)),
                                    car.get("workingDir")))
        run = run_pod(fs, argv, env, spec.get("workingDir"), deadline, sidecars)
        node.log = run.stderr
        # CaptureScriptResult: one trailing newline trimmed, only the last 256 kB kept
        result = (run.stdout[:-1] if run.stdout.endswith("\n") else run.stdout)[-256 * 1024:]
        outputs: dict = {"result": result, "exitCode": str(run.exit_code)}
        node.outputs = outputs
        # wait.go: parameters and artifacts are saved whatever the main container's exit code
        errors = []
        try:
            outputs["parameters"] = leaf_outputs(tmpl, podscope, lambda p: read_parameter_file(
                fs.output(p["valueFrom"]["path"]), p))
        except (OutputError, UnresolvedError, ExpressionError) as exc:
            errors.append(str(exc))
        try:
            outputs["artifacts"] = self.save_outputs(tmpl, fs, podscope)
        except ArtifactError as exc:
            errors.append(str(exc))
        outputs = {k: v for k, v in outputs.items() if v not in (None, [])}
        node.outputs = outputs
        if run.deadline_exceeded:
            return self.finish(node, FAILED, "Pod was active on the node longer than the specified deadline")
        if run.exit_code != 0:
            return self.finish(node, FAILED, f"Error (exit code {run.exit_code})")
        if errors:
            return self.finish(node, ERROR, "; ".join(errors))
        return self.finish(node, SUCCEEDED)

    def _finish_resource(self, node, tmpl, scope) -> NodeResult:
        deadline = self.deadline
        if tmpl.get("activeDeadlineSeconds") not in (None, ""):
            deadline = min(deadline, time.time() + retrylib.parse_duration(tmpl["activeDeadlineSeconds"]))
        phase, message, outputs = run_resource(tmpl, scope, self.engine.resource_controllers, self.engine.namespace,
                                               self.name, deadline)
        node.outputs = outputs
        return self.finish(node, phase, message)

    def resolved_volumes(self) -> list[dict]:
        volumes = list(self.spec.get("volumes") or [])
        for claim in self.spec.get("volumeClaimTemplates") or []:
            volumes.append({"name": claim["metadata"]["name"],
                            "persistentVolumeClaim": {"claimName": f"{self.name}-{claim['metadata']['name']}"}})
        # dag.go/steps.go substituteParamsInVolumes: spec.volumes see the calling task's or step's scope
        scope = getattr(self.thread_scope, "volumes", None)
        return substitute(volumes, self.globals.merged(scope) if scope else self.globals, allow_unresolved=True)

    def volume_dir(self, volume: dict, podroot: Path, mount: dict) -> Path:
        if "emptyDir" in volume:
            path = podroot / "volumes" / volume["name"]
        elif "persistentVolumeClaim" in volume:
            path = self.engine.workdir / "pvc" / volume["persistentVolumeClaim"]["claimName"]
        elif "secret" in volume or "configMap" in volume:
            kind = "secret" if "secret" in volume else "configMap"
            ref = volume[kind]
            name = ref.get("secretName") or ref.get("name")
            source = (self.engine.secrets if kind == "secret" else self.engine.configmaps).get(name)
            path = podroot / "volumes" / volume["name"]
            path.mkdir(parents=True, exist_ok=True)
            if source is None:
                if not ref.get("optional"):
                    raise PodError(f"{kind} {name!r} not found (volume {volume['name']!r})")
                return path
            items = ref.get("items") or [{"key": k, "path": k} for k in source]
            for item in items:
                target = path / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(source[item["key"]])
            return path
        else:
            raise PodError(f"volume {volume['name']!r}: only emptyDir, persistentVolumeClaim, secret and configMap "
                           "volumes are emulated")
        if mount.get("subPath"):
            path = path / mount["subPath"]
        path.mkdir(parents=True, exist_ok=True)
        return path

    def container_env(self, env: list[dict], node: NodeResult) -> dict[str, str]:
        out: dict[str, str] = {"ARGO_CONTAINER_NAME": "main", "ARGO_TEMPLATE": node.template_name or "",
                               "ARGO_NODE_ID": node.id}
        for var in env:
            if "value" in var:
                out[var["name"]] = str(var["value"])
                continue
            source = var.get("valueFrom") or {}
            for kind, store in (("secretKeyRef", self.engine.secrets), ("configMapKeyRef", self.engine.configmaps)):
                ref = source.get(kind)
                if ref:
                    data = store.get(ref.get("name"))
                    if data is None or ref.get("key") not in data:
                        if ref.get("optional"):
                            break
                        what = "secret" if kind == "secretKeyRef" else "configmap"
                        raise PodError(f"{what} {ref.get('name')!r} has no key {ref.get('key')!r} (env {var['name']})")
                    out[var["name"]] = data[ref["key"]]
                    break
            else:
                field = (source.get("fieldRef") or {}).get("fieldPath")
                if field == "metadata.name":
                    out[var["name"]] = node.pod_name or ""
                elif field == "metadata.namespace":
                    out[var["name"]] = self.engine.namespace
                elif field:
                    raise PodError(f"env {var['name']}: fieldRef {field} is not emulated")
        return out

    # -- artifacts ------------------------------------------------------------------------------------------------
    def load_inputs(self, tmpl: dict, fs: PodFilesystem) -> None:
        for art in (tmpl.get("inputs") or {}).get("artifacts") or []:
            dest = fs.host_path(art["path"])
            if "raw" in art:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(art["raw"].get("data", ""))
                continue
            if not _has_location(art):
                if art.get("optional"):
                    continue
                raise ArtifactError(f"inputs.artifacts.{art['name']} missing location information")
            if "s3" not in art:
                kinds = [k for k in ("http", "git", "gcs", "oss", "hdfs", "artifactory", "azure", "plugin")
                         if k in art]
                raise ArtifactError(f"artifact {art['name']!r}: {kinds} artifacts are not emulated (S3 only)")
            if self.repo is None:
                raise ArtifactError("no artifact repository configured")
            try:
                if art.get("subPath"):
                    art = {**art, "s3": {**art["s3"], "key": art["s3"]["key"].rstrip("/") + "/" + art["subPath"]}}
                self.repo.load(art, dest)
            except ArtifactNotFound:
                if not art.get("optional"):
                    raise
            if art.get("mode") is not None and dest.exists():
                dest.chmod(int(art["mode"]))

    def save_outputs(self, tmpl: dict, fs: PodFilesystem, scope: Scope) -> list[dict]:
        records, errors = [], []
        for art in (tmpl.get("outputs") or {}).get("artifacts") or []:
            others = [k for k in ("http", "git", "gcs", "oss", "hdfs", "artifactory", "azure", "raw", "plugin")
                      if k in art]
            if others:
                errors.append(f"artifact {art['name']!r}: {others} artifacts are not emulated (S3 only)")
                continue
            local = fs.output(art["path"])
            if not local.exists():
                if art.get("optional"):
                    continue
                errors.append(f"path {art['path']} does not exist in archive {local}")
                continue
            if self.repo is None:
                errors.append(getattr(self, "repo_error", "no artifact repository configured"))
                continue
            key_format = self.repo_config["s3"].get("keyFormat") or DEFAULT_KEY_FORMAT
            prefix = replace(key_format, scope, allow_unresolved=False)
            records.append(self.repo.save(art, local, prefix))
        if errors:
            raise ArtifactError("; ".join(errors))
        return records

    def resolve_artifact_arguments(self, arts: list[dict], scope: Scope, optional: set[str] = frozenset()) -> list[dict]:
        """`from`: the referenced artifact's location (dag.go resolveDependencyReferences); an optional
        artifact (the argument's or the consuming input's `optional`) that cannot be resolved is dropped."""
        out = []
        for art in arts:
            if art.get("from"):
                ref = art["from"].strip()
                if not (ref.startswith("{{") and ref.endswith("}}")):
                    raise UnresolvedError(f"artifact {art['name']!r}: from must be a single {{{{...}}}} reference")
                key = ref[2:-2].strip()
                if key in scope.absent and not (art.get("optional") or art["name"] in optional):
                    raise UnresolvedError(f"artifact {art['name']!r}: {ref} is an absent optional output "
                                          "of a skipped or omitted node")
                found = scope.artifacts.get(key) or self.global_artifacts().get(key)
                if found is None:
                    if art.get("optional") or art["name"] in optional:
                        continue
                    raise UnresolvedError(f"Unable to resolve: {ref}")
                resolved = {k: v for k, v in found.items() if k not in ("path", "name", "globalName", "mode")}
                art = {**{k: v for k, v in art.items() if k != "from"}, **resolved}
            out.append(art)
        return out

    def add_global_outputs(self, outputs: dict) -> None:
        with self.lock:
            for param in outputs.get("parameters") or []:
                if param.get("globalName"):
                    self.globals.set(f"workflow.outputs.parameters.{param['globalName']}", param["value"])
                    self.global_outputs["parameters"] = [
                        p for p in self.global_outputs["parameters"] if p["name"] != param["globalName"]] + [
                        {"name": param["globalName"], "value": param["value"]}]
            for art in outputs.get("artifacts") or []:
                if art.get("globalName"):
                    self.global_outputs["artifacts"].append({**art, "name": art["globalName"]})
                    self.global_artifacts()[f"workflow.outputs.artifacts.{art['globalName']}"] = art

    def global_artifacts(self) -> dict:
        if not hasattr(self, "_global_artifacts"):
            self._global_artifacts = {}
        return self._global_artifacts

    # -- DAG and steps are in their modules' helpers; the orchestration lives here --------------------------------
    def outbound_of(self, node: NodeResult) -> list[str]:
        """operator.go getOutboundNodes: a pod is its own; a DAG/Steps node its OutboundNodes; a Retry its
        last attempt's; a TaskGroup its children's."""
        if node.type in ("DAG", "Steps") and node.outbound:
            return list(node.outbound)
        if node.type == "Retry" and node.children:
            last = self.nodes.by_id(node.children[-1])
            return self.outbound_of(last) if last else [node.id]
        if node.type == "TaskGroup" and node.children:
            return [o for c in node.children if (child := self.nodes.by_id(c)) for o in self.outbound_of(child)]
        return [node.id]

    def node_scope(self, scope: Scope, prefix: str, node: NodeResult, tmpl_holder: dict | None) -> None:
        """buildLocalScope / processAggregateNodeOutputs for one task or step node."""
        if node.type == "Retry" and node.children:
            last = self.nodes.by_id(node.children[-1])
            node = last or node
        scope.set(f"{prefix}.id", node.id)
        scope.set(f"{prefix}.status", node.phase)
        scope.set(f"{prefix}.startedAt", _rfc3339(node.started))
        scope.set(f"{prefix}.finishedAt", _rfc3339(node.finished))
        if node.phase in (SKIPPED, OMITTED) and tmpl_holder is not None:
            self.absent_outputs(scope, prefix, tmpl_holder)
            return
        outputs = node.outputs or {}
        if "result" in outputs:
            scope.set(f"{prefix}.outputs.result", outputs["result"])
        if "exitCode" in outputs:
            scope.set(f"{prefix}.exitCode", outputs["exitCode"])
        for param in outputs.get("parameters") or []:
            scope.set(f"{prefix}.outputs.parameters.{param['name']}", param["value"])
        for art in outputs.get("artifacts") or []:
            scope.artifacts[f"{prefix}.outputs.artifacts.{art['name']}"] = art

    def absent_outputs(self, scope: Scope, prefix: str, holder: dict) -> None:
        """A skipped/omitted node's outputs: the producer's valueFrom.default, else absent (v4.1 rules)."""
        try:
            tmpl = self.resolve_template(holder)
        except ValidationError:
            return
        for param in (tmpl.get("outputs") or {}).get("parameters") or []:
            key = f"{prefix}.outputs.parameters.{param['name']}"
            value_from = param.get("valueFrom") or {}
            if "default" in value_from:
                scope.set(key, str(value_from["default"]))
            else:
                scope.absent.add(key)
        for art in (tmpl.get("outputs") or {}).get("artifacts") or []:
            scope.absent.add(f"{prefix}.outputs.artifacts.{art['name']}")

    def aggregate_scope(self, scope: Scope, prefix: str, children: list[NodeResult]) -> None:
        """processAggregateNodeOutputs: JSON lists over a loop's succeeded children, in loop order."""
        params, per_name, results = [], {}, []
        for child in children:
            if child.hooked or child.phase != SUCCEEDED:
                continue
            outputs = child.outputs or {}
            if outputs.get("parameters"):
                entry = {}
                for param in outputs["parameters"]:
                    entry[param["name"]] = param["value"]
                    per_name.setdefault(param["name"], []).append(param["value"])
                params.append(entry)
            if "result" in outputs:
                try:
                    results.append(json.loads(outputs["result"]))
                except ValueError:
                    results.append(outputs["result"])
        scope.set(f"{prefix}.outputs.result", to_json(results))
        scope.set(f"{prefix}.outputs.parameters", to_json(params))
        for name, values in per_name.items():
            scope.set(f"{prefix}.outputs.parameters.{name}", _aggregate_list(values))

    def run_dag(self, node_name, tmpl, tmpl_name, boundary, display) -> NodeResult:
        from .dag_runner import run_dag

        return run_dag(self, node_name, tmpl, tmpl_name, boundary, display)

    def run_steps(self, node_name, tmpl, tmpl_name, boundary, display) -> NodeResult:
        from .steps import run_steps

        return run_steps(self, node_name, tmpl, tmpl_name, boundary, display)

    def start_hooks(self, holder: dict, node_name: str, prefix: str, boundary: str, scope: Scope) -> list:
        """Expression hooks true while the node runs (`<prefix>.status == "Running"`), started beside it, as
        the controller starts them on a reconcile that sees the node Running (docs/lifecyclehook.md)."""
        threads = []
        for name, hook in self._expression_hooks(holder, node_name, prefix, scope, RUNNING):
            thread = threading.Thread(target=self._run_hook, args=(name, hook, node_name, boundary, scope, prefix,
                                                                   RUNNING), daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def run_lifecycle(self, holder: dict, node: NodeResult, prefix: str, boundary: str, scope: Scope) -> None:
        """After the node ended: expression hooks now true (each runs once) and the exit hook
        (`onExit` or `hooks.exit`), whose node is `<node>.onExit` (operator.go runOnExitNode)."""
        for name, hook in self._expression_hooks(holder, node.name, prefix, scope, node.phase):
            self._run_hook(name, hook, node.name, boundary, scope, prefix, node.phase)
        exit_hook = (holder.get("hooks") or {}).get("exit") or (
            {"template": holder["onExit"]} if holder.get("onExit") else None)
        if exit_hook:
            self._run_hook("exit", exit_hook, node.name, boundary, scope, prefix, node.phase)

    def _expression_hooks(self, holder: dict, node_name: str, prefix: str, scope: Scope, status: str) -> list:
        local = scope.merged(Scope({f"{prefix}.status": status}))
        due = []
        for name, hook in (holder.get("hooks") or {}).items():
            if name == "exit":
                continue
            expression = replace(hook.get("expression", ""), local, allow_unresolved=True)
            try:
                fire = evaluate(expression, local.expression_env()) is True
            except ExpressionError:
                fire = False
            with self.lock:
                key = f"{node_name}.hooks.{name}"
                if fire and key not in self.fired_hooks:
                    self.fired_hooks.add(key)
                    due.append((name, hook))
        return due

    def _run_hook(self, name, hook, node_name, boundary, scope, prefix, status) -> None:
        local = scope.merged(Scope({f"{prefix}.status": status}))
        args = substitute(hook.get("arguments") or {}, self.globals.merged(local), allow_unresolved=True)
        hook_name = f"{node_name}.onExit" if name == "exit" else f"{node_name}.hooks.{name}"
        self.execute_template(hook_name, hook, args, boundary, on_exit=True, hooked=True)


def _scoped(tmpl: dict, ref: dict) -> dict:
    """Turn `template: X` references inside a referenced template into templateRefs to its owner."""
    def fix(holder: dict) -> None:
        if holder.get("template") and not holder.get("templateRef"):
            holder["templateRef"] = {**ref, "template": holder.pop("template")}
        for hook in (holder.get("hooks") or {}).values():
            fix(hook)
        if isinstance(holder.get("onExit"), str):
            holder.setdefault("hooks", {})["exit"] = {"templateRef": {**ref, "template": holder.pop("onExit")}}

    for task in (tmpl.get("dag") or {}).get("tasks") or []:
        fix(task)
    for group in tmpl.get("steps") or []:
        for step in group if isinstance(group, list) else [group]:
            fix(step)
    return tmpl


def _merge(base: dict, override: dict) -> dict:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = value
    return base


def _string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return to_json(value)
    return str(value)


def _has_location(art: dict) -> bool:
    return any(k in art for k in ("s3", "raw", "http", "git", "gcs", "oss", "hdfs", "artifactory", "azure", "plugin"))


def _type_of(tmpl: dict) -> str:
    for key, kind in (("dag", "DAG"), ("steps", "Steps"), ("suspend", "Suspend")):
        if key in tmpl:
            return kind
    return "Pod"


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else ""


def _aggregate_list(values: list[str]) -> str:
    """aggregatedJsonValueList: objects/lists stay JSON, anything else is a JSON string."""
    parsed = []
    for value in values:
        try:
            item = json.loads(value)
        except ValueError:
            item = None
        parsed.append(item if isinstance(item, (dict, list)) else value)
    return to_json(parsed)
