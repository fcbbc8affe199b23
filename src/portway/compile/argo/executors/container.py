"""Any container executor (container components and Python function components) as an Argo container template.

The template runs the IR's own image, command and args; only KFP's placeholders are replaced
(placeholders.py), so nothing of Portway runs inside the user's image. Argo's S3 artifact driver
downloads input artifacts to /s3/<bucket>/<key> and uploads outputs from there (artifacts.py).
The executor output file is seeded with each output artifact's URI, so a container component (which
writes none) still tells downstream steps where its outputs are; KFP's executor overwrites it with
its own, metadata included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from portway.compile.argo import artifacts, caching, kubernetes, picks, placeholders, refs, retries
from portway.compile.argo.executors import python
from portway.compile.kfp_target import is_project_image

SEED = "kfp-executor-output"
RUN_AS_USER = 10001  # the project Dockerfile's non-root user


@dataclass
class Built:
    template: dict
    outputs: dict[str, refs.Ref] = field(default_factory=dict)
    images: set[str] = field(default_factory=set)
    pull_secrets: set[str] = field(default_factory=set)
    picks: dict[str, refs.Pick] = field(default_factory=dict)  # inputs the template picks out itself (picks.py)


def build(compiler, template_name: str, task_name: str, task: dict, component: dict, executor_label: str,
          container: dict, inputs: dict[str, refs.Ref], per_run: set[str]) -> Built:
    options, warn = compiler.options, compiler.warn
    outputs = component.get("outputDefinitions", {})
    parameter_types = {n: r.kfp_type for n, r in inputs.items() if r.kfp_type not in ("artifact", "artifact_list")}
    # Template inputs of the Argo target's own (a PVC's name: pvc-<n>) are not KFP inputs: KFP names have no '-'.
    own = {n for n in parameter_types if "-" in n}
    kfp_parameters = {n: t for n, t in parameter_types.items() if n not in own}
    artifact_lists = {n: r.kfp_type == "artifact_list" for n, r in inputs.items()
                      if r.kfp_type in ("artifact", "artifact_list")}
    input_artifacts = sorted(artifact_lists)
    # KFP inputs that are one output of an upstream step: the template picks them out of its executor output.
    picked = picks.by_source({n: r.pick for n, r in inputs.items() if r.pick is not None and n not in own})
    # Outputs a later step collects (dsl.Collected) land under one prefix per task (artifacts.group_key);
    # caching stays off for it, as a cached iteration's outputs would lie under an earlier run's prefix.
    group = template_name if task_name in compiler.collected_producers else None
    output_parameters = sorted(outputs.get("parameters", {}))
    output_artifacts = {n: d.get("artifactType", {}) for n, d in sorted(outputs.get("artifacts", {}).items())}
    is_python = python.is_python_component(container)
    context = placeholders.Context(
        task=task_name, kind=options.kind, bucket=options.bucket, prefix=options.prefix,
        parameter_types=kfp_parameters, input_artifacts=set(input_artifacts), output_files=set(), group=group,
        picks=picked,
        executor_input=lambda: placeholders.executor_input(
            kfp_parameters, artifact_lists, output_parameters, output_artifacts, options.bucket, options.prefix,
            group, frozenset(n for n, r in inputs.items() if r.nullable), picked),
    )
    command = [t for item in container.get("command", []) for t in placeholders.expand(item, context)]
    args = [t for item in container.get("args", []) for t in placeholders.expand(item, context)]
    for key in sorted(set(container) - {"image", "command", "args", "resources", "env"}):
        warn(f"task {task_name!r}: container field {key!r} (e.g. lifecycle hooks) is not carried over")

    image = container.get("image", "")
    project = is_project_image(image)
    if project:
        image = options.image
    platform = compiler.ir.platform_executors.get(executor_label, {})
    env = kubernetes.environment(container, platform, task_name, warn)
    if not any(e["name"] == "HOME" for e in env):
        env.insert(0, {"name": "HOME", "value": "/tmp"})  # pip and caches write under HOME; /tmp is writable
    extra_volumes, extra_mounts = kubernetes.volumes(platform, task_name)
    body = {"image": image}
    if command:
        body["command"] = command
    if args:
        body["args"] = args
    body["env"] = env
    requirements = kubernetes.resources(container, task_name, warn)
    if requirements:
        body["resources"] = requirements
    if platform.get("imagePullPolicy"):
        body["imagePullPolicy"] = platform["imagePullPolicy"]
    body["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "kfp-s3", "mountPath": "/s3"},
                            *extra_mounts]
    if project:
        # The project image runs locked down; a user's image keeps its own user and filesystem, as on KFP.
        body["securityContext"] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                   "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}

    # Which output parameters Argo reads from files: a container component's all; a Python function's
    # OutputPath ones (the rest it returns into executor_output.json); unknown source: both, file optional.
    if is_python:
        files = python.file_outputs(container)
        either = files is None
        files = set(output_parameters) if files is None else files & set(output_parameters)
    else:
        either, files = False, set(output_parameters)
    output_specs = [{"name": refs.EXECUTOR_OUTPUT, "valueFrom": {"path": artifacts.EXECUTOR_OUTPUT_FILE}}]
    for name in sorted(files):
        value_from = {"path": artifacts.output_parameter_file(name)}
        if either:
            value_from["default"] = ""
        output_specs.append({"name": name, "valueFrom": value_from})

    seed = {"artifacts": {n: {"artifacts": [{"name": n, "uri": artifacts.output_uri(options.bucket, options.prefix, n,
                                                                                    group),
                                             "metadata": {}}]} for n in output_artifacts}}
    input_parameters = picks.carriers(picked)
    input_parameters += [p for n in sorted(parameter_types) for p in picks.declared(n, picked.get(n))]
    for n in input_artifacts:
        input_parameters += ([{"name": n}, {"name": artifacts.key_parameter(n)}] if artifact_lists[n]
                             else picks.declared(n, picked.get(n)))
    # A single artifact's key is read from its JSON inside the template; a list's is its common prefix.
    input_artifact_specs = [artifacts.input_artifact(options.bucket, n,
                                                     None if artifact_lists[n] else picks.value_expr(n, picked.get(n)),
                                                     optional=artifact_lists[n])
                            for n in input_artifacts]
    input_artifact_specs.append({"name": SEED, "path": artifacts.EXECUTOR_OUTPUT_FILE,
                                 "raw": {"data": json.dumps(seed, sort_keys=True)}})
    if not is_python:  # KFP's Python executor makes its output folders itself
        input_artifact_specs += artifacts.directory_markers(options.bucket, options.prefix, group)

    labels = {"portway.dev/run": "{{workflow.name}}", "portway.dev/step": _label(task_name)}
    labels.update(platform.get("podMetadata", {}).get("labels", {}))
    metadata = {"labels": labels}
    if platform.get("podMetadata", {}).get("annotations"):
        metadata["annotations"] = dict(platform["podMetadata"]["annotations"])
    template = {"name": template_name, "inputs": {"parameters": input_parameters, "artifacts": input_artifact_specs},
                "outputs": {"parameters": output_specs}, "metadata": metadata}
    if not input_parameters:
        del template["inputs"]["parameters"]
    if output_artifacts:
        template["outputs"]["artifacts"] = [
            artifacts.output_artifact(options.bucket, options.prefix, n, group, t.get("schemaTitle", ""))
            for n, t in output_artifacts.items()]
    template.update(kubernetes.template_settings(platform, task_name, warn))
    volumes = [{"name": "kfp-s3", "emptyDir": {}}, *extra_volumes]
    template["volumes"] = volumes
    if project:
        template["securityContext"] = {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "runAsGroup": RUN_AS_USER,
                                       "fsGroup": RUN_AS_USER, "seccompProfile": {"type": "RuntimeDefault"}}
    strategy = retries.retry_strategy(task.get("retryPolicy"), task_name, warn)
    if strategy:
        template["retryStrategy"] = strategy
    template["container"] = body
    caching_options = task.get("cachingOptions", {})
    if caching_options.get("enableCache") and group:
        warn(f"task {task_name!r}: its artifacts are collected (dsl.Collected), so it is not cached on Argo: a "
             "cached iteration's artifacts would lie under an earlier run's prefix")
        caching_options = {}
    if caching_options.get("enableCache"):
        # Every input's value (a picked one as picked, so only that output of its upstream counts).
        key_inputs = [picks.value_expr(n, picked.get(n)) for n in sorted(parameter_types) if n not in per_run]
        for n in input_artifacts:
            key_inputs.append(picks.value_expr(n, picked.get(n)))
            if artifact_lists[n]:  # a list: its JSON, and the prefix its files are under
                key_inputs.append(f"inputs.parameters{refs.index(artifacts.key_parameter(n))}")
        template["memoize"] = caching.memoize(body, caching_options.get("cacheKey"), key_inputs,
                                              options.cache_configmap, template_name, options.cache_max_age,
                                              caching.project_code_digest() if project else "")

    results = {}
    for name in output_parameters:
        kfp_type = outputs["parameters"][name].get("parameterType", "STRING")
        if not is_python or (not either and name in files):
            results[name] = refs.file_parameter(template_name, name, kfp_type)
        elif either:
            results[name] = refs.either_parameter(template_name, name, kfp_type)
        else:
            results[name] = refs.returned_parameter(template_name, name, kfp_type)
    for name in output_artifacts:
        results[name] = refs.output_artifact(template_name, name)
    return Built(template, results, {image} if caching_options.get("enableCache") and not project else set(),
                 kubernetes.pull_secrets(platform), picked)


def _label(text: str) -> str:
    from portway.compile.argo.limits import label_value

    return label_value(text)
