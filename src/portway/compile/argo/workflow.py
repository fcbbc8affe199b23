"""The Argo document around the DAGs: Workflow, WorkflowTemplate or CronWorkflow, and its arguments."""

from __future__ import annotations

from portway.compile.argo import limits, refs, values
from portway.compile.argo.caching import is_pinned
from portway.compile.argo.dag import Compiler, Scope
from portway.compile.argo.ir import UnsupportedFeature
from portway.compile.argo.options import ArgoOptions
from portway.compile.argo.sharing import share_templates
from portway.errors import ParameterError


def root_scope(compiler: Compiler, types: dict[str, str], nullable: set[str]) -> Scope:
    def resolve(name: str, selector: str | None) -> refs.Ref:
        if selector:
            raise UnsupportedFeature(f"the selector {selector!r} is only supported on a ParallelFor item.")
        if name not in types:
            raise UnsupportedFeature(f"a task reads pipeline input {name!r}, which the pipeline does not declare.")
        if types[name] == "artifact":
            return refs.artifact_from_uri(refs.workflow_parameter(name, "STRING"), name)
        return refs.workflow_parameter(name, types[name], nullable=name in nullable)

    return Scope(resolve=resolve, conditions=[], depends={}, tasks=[])


def arguments(compiler: Compiler, definitions: dict) -> list[dict]:
    options: ArgoOptions = compiler.options
    result = []
    for name, definition in sorted(definitions.get("parameters", {}).items()):
        limits.check_parameter_name(name, "pipeline parameter")
        kfp_type = definition.get("parameterType", "STRING")
        parameter = {"name": name}
        if name in options.parameters:
            raw = options.parameters[name]
            value = raw if isinstance(raw, str) else values.render(raw, kfp_type)
            parameter["value"] = values.normalise(value, kfp_type, f"--param {name}")
        elif "defaultValue" in definition:
            parameter["value"] = values.render(definition["defaultValue"], kfp_type)
            if note := values.substitution_note(parameter["value"], f"the default of pipeline parameter {name!r}"):
                compiler.warn(note)
        elif definition.get("isOptional"):
            # Argo has no "absent": an empty value stands for KFP's None (refs.Ref.nullable).
            parameter["value"] = ""
            parameter["description"] = f"KFP {kfp_type}, optional: empty means None"
            result.append(parameter)
            continue
        parameter["description"] = f"KFP {kfp_type}" + ("" if "value" in parameter else ", required")
        result.append(parameter)
    for name in sorted(definitions.get("artifacts", {})):
        parameter = {"name": name, "description": "KFP artifact: its s3:// URI in the artifact repository's bucket"}
        if name in options.parameters:
            parameter["value"] = str(options.parameters[name])
        else:
            parameter["description"] += ", required"
        result.append(parameter)
    if options.kind == "CronWorkflow":
        # Argo validates a CronWorkflow as a submitted Workflow (validate.go CronWorkflow: Opts{}), so every
        # argument needs a value: no one is there to pass it when the schedule fires.
        missing = [p["name"] for p in result if "value" not in p]
        if missing:
            raise ParameterError(f"--kind CronWorkflow: the pipeline parameter(s) {', '.join(missing)} have no default; "
                                 "a scheduled run has nobody to pass them, so give each with --param NAME=VALUE.")
    return result


def convert(compiled: dict, options: ArgoOptions) -> tuple[dict, list[str]]:
    compiler = Compiler(compiled, options)
    ir = compiler.ir
    for other in ir.other_platforms:
        compiler.warn(f"the PlatformSpec for platform {other!r} is not carried over")
    if ir.spec.get("defaultPipelineRoot"):
        compiler.warn(f"the pipeline root {ir.spec['defaultPipelineRoot']!r} is not used; artifacts go under "
                      "--artifact-root")
    if ir.kubernetes.get("pipelineConfig"):
        compiler.warn(f"the PlatformSpec's pipelineConfig {sorted(ir.kubernetes['pipelineConfig'])} is not carried over")
    definitions = ir.root.get("inputDefinitions", {})
    types = {n: d.get("parameterType", "STRING") for n, d in definitions.get("parameters", {}).items()}
    types.update({n: "artifact" for n in definitions.get("artifacts", {})})
    unknown = sorted(set(options.parameters) - set(types))
    if unknown:
        raise ParameterError(f"--param {unknown[0]} is not a parameter of {ir.name}; it takes: "
                             f"{', '.join(sorted(types)) or 'no parameters'}.")
    args = arguments(compiler, definitions)

    entry = compiler.unique(ir.name)
    nullable = {n for n, d in definitions.get("parameters", {}).items()
                if d.get("isOptional") and "defaultValue" not in d and n not in options.parameters}
    scope = root_scope(compiler, types, nullable)
    outputs = compiler.convert_dag(ir.root, scope, "the pipeline")
    entry_template = {"name": entry, "dag": {"tasks": scope.tasks}}
    if outputs:
        entry_template["outputs"] = {"parameters": [
            {"name": n, "valueFrom": {"parameter": r.text} if r.text else {"expression": r.expr}}
            for n, r in sorted(outputs.items())]}
    unpinned = sorted(i for i in compiler.cached_images if not is_pinned(i))
    if unpinned:
        compiler.warn(f"cached steps run image(s) {', '.join(unpinned)} by tag: a tag rebuilt with new step logic can "
                      f"serve stale cached results for up to {options.cache_max_age}; pin a digest (image@sha256:...)")
    document = document_for(compiler, ir.name, entry, [entry_template, *compiler.templates], args)
    return document, compiler.warnings


def document_for(compiler: Compiler, pipeline_name: str, entry: str, templates: list[dict], args: list[dict]) -> dict:
    options: ArgoOptions = compiler.options
    labels = {"portway.dev/pipeline": limits.label_value(pipeline_name), "portway.dev/team": options.team}
    for template in templates:
        container = template.get("container")
        if container is None:
            continue
        if options.s3_endpoint:
            container["env"].append({"name": "AWS_ENDPOINT_URL", "value": options.s3_endpoint})
        if options.s3_secret:
            # Static keys for steps that read S3 themselves (MinIO on kind); on EKS the service account (IRSA).
            for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                container["env"].append({"name": variable, "valueFrom": {"secretKeyRef": {
                    "name": options.s3_secret, "key": variable}}})
    spec = {
        "entrypoint": entry,
        "arguments": {"parameters": args},
        "serviceAccountName": options.service_account,
        "activeDeadlineSeconds": options.active_deadline_seconds,
        "ttlStrategy": {"secondsAfterSuccess": options.ttl_after_success_seconds,
                        "secondsAfterFailure": options.ttl_after_failure_seconds},
        # Failed pods stay for `kubectl logs` until the workflow's TTL removes them.
        "podGC": {"strategy": "OnPodSuccess"},
        "podMetadata": {"labels": dict(labels)},
        "workflowMetadata": {"labels": dict(labels), "labelsFrom": {"portway.dev/run": {"expression": "workflow.name"}}},
        "volumes": [{"name": "tmp", "emptyDir": {}}],
        "templates": templates,
    }
    share_templates(spec)
    if compiler.pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in sorted(compiler.pull_secrets)]
    metadata = {"labels": dict(labels)}
    if options.namespace:
        metadata["namespace"] = options.namespace
    name = options.name or limits.field_name(pipeline_name, limits.MAX_OBJECT_NAME).lower()
    if options.kind == "Workflow":
        metadata["generateName"] = name[:limits.MAX_OBJECT_NAME - 6].rstrip("-") + "-"
        body = spec
    elif options.kind == "WorkflowTemplate":
        metadata["name"] = name[:limits.MAX_OBJECT_NAME].rstrip("-")
        body = spec
    else:
        metadata["name"] = name[:limits.MAX_CRON_WORKFLOW_NAME].rstrip("-")
        body = {"schedules": [options.schedule], "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 600,
                "workflowSpec": spec}
        if options.timezone:
            body["timezone"] = options.timezone
        body["workflowMetadata"] = {"labels": dict(labels)}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": options.kind, "metadata": metadata, "spec": body}
