"""KFP DAGs as Argo DAGs: tasks, data between them, groups, conditions, loops and nested pipelines.

- A container task becomes one DAG task running its own template (executors/container.py); an importer
  becomes a value (executors/importer.py).
- Dependencies: `depends` on `<task>.Succeeded` (as KFP's own Argo compiler writes), so nothing runs after
  a failed or skipped producer; a `.after()` on a task inside a condition also accepts `.Skipped`
  (KFP runs it when the condition was false).
- dsl.If/Elif/Else and nested pipelines are flattened into the enclosing DAG: their tasks carry the
  group's condition (conditions.py) and dependencies.
- dsl.ParallelFor becomes a DAG template for the body, fanned out with withItems/withParam
  (one template whatever the fan-out) and, with `parallelism`, wrapped in a template that limits it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from portway.compile.argo import artifacts, conditions, limits, picks, placeholders, refs, values
from portway.compile.argo.executors import container as container_executor
from portway.compile.argo.executors import resources as pvc_stubs
from portway.compile.argo.executors.importer import importer_output
from portway.compile.argo.ir import IR, MalformedIR, UnsupportedFeature, need, topological

KNOWN_TASK_KEYS = {"taskInfo", "inputs", "dependentTasks", "cachingOptions", "componentRef", "triggerPolicy",
                   "parameterIterator", "retryPolicy", "iteratorPolicy"}
KNOWN_COMPONENT_KEYS = {"inputDefinitions", "outputDefinitions", "dag", "executorLabel"}
ARTIFACT_KINDS = ("artifact", "artifact_list")


@dataclass
class Scope:
    """Where an IR DAG is being written: the Argo DAG it lands in and what it can see."""

    resolve: Callable[[str, str | None], refs.Ref]  # (component input, item selector) -> value
    conditions: list[str]
    depends: dict[str, str]  # Argo task -> its `depends` term
    tasks: list[dict]
    outputs: dict[str, dict[str, refs.Ref]] = field(default_factory=dict)
    leaves: dict[str, dict[str, str]] = field(default_factory=dict)  # IR task -> {Argo task: depends term}
    hooks: dict[str, str] = field(default_factory=dict)  # IR task -> the exit task that runs as its exit hook
    argo_task: dict[str, dict] = field(default_factory=dict)  # IR task -> its one Argo DAG task (when it has one)


class Compiler:
    def __init__(self, compiled: dict, options):
        self.ir = IR(compiled)
        self.options = options
        self.warnings: list[str] = []
        self.templates: list[dict] = []
        self.names: set[str] = set()
        self.cached_images: set[str] = set()
        self.pull_secrets: set[str] = set()
        self.collected_producers: set[str] = set()  # IR tasks whose artifacts a later step collects

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def unique(self, name: str) -> str:
        """A template/task name, unique in the workflow, within Argo's field-name rule (limits.py)."""
        base = limits.field_name(name, limits.MAX_FIELD_NAME - 4)
        candidate, n = base, 2
        while candidate in self.names:
            candidate, n = f"{base}-{n}", n + 1
        self.names.add(candidate)
        return candidate

    # -- values ------------------------------------------------------------------------------------------
    def task_inputs(self, task: dict, component: dict, scope: Scope, name: str) -> dict[str, refs.Ref]:
        definitions = component.get("inputDefinitions", {})
        given = task.get("inputs", {})
        result = {}
        for group in ("parameters", "artifacts"):
            for input_name, definition in definitions.get(group, {}).items():
                kfp_type = definition.get("parameterType", "STRING") if group == "parameters" else (
                    "artifact_list" if definition.get("isArtifactList") else "artifact")
                spec = given.get(group, {}).get(input_name)
                if spec is not None:
                    result[input_name] = self.resolve(spec, kfp_type, scope, name)
                elif "defaultValue" in definition:
                    # KFP's driver passes a component's default when the task does not.
                    text = values.render(definition["defaultValue"], kfp_type)
                    if note := values.substitution_note(text, f"task {name!r}: the default of {input_name!r}"):
                        self.warn(note)
                    result[input_name] = refs.constant(text, kfp_type)
            for input_name in sorted(set(given.get(group, {})) - set(definitions.get(group, {}))):
                raise MalformedIR(f"pipeline IR: task {name!r} passes {input_name!r}, which its component does not "
                                  "declare.")
        return result

    def resolve(self, spec: dict, kfp_type: str, scope: Scope, consumer: str) -> refs.Ref:
        if "componentInputParameter" in spec or "componentInputArtifact" in spec:
            ref = scope.resolve(spec.get("componentInputParameter") or spec["componentInputArtifact"],
                                spec.get("parameterExpressionSelector"))
            if ref.kfp_type in ARTIFACT_KINDS or kfp_type in ARTIFACT_KINDS:
                return ref
            return dataclasses.replace(ref, kfp_type=kfp_type)
        if "taskFinalStatus" in spec:
            return self.final_status(need(spec["taskFinalStatus"], "producerTask", f"task {consumer!r} input", str),
                                     scope, consumer)
        if "runtimeValue" in spec:
            value = need(spec["runtimeValue"], "constant", f"task {consumer!r} input")
            text = values.render(value, kfp_type)
            if "{{$" in text:
                return self.job_constant(text, kfp_type, consumer)
            if note := values.substitution_note(text, f"task {consumer!r}: a constant input"):
                self.warn(note)
            return refs.constant(text, kfp_type)
        for key, output_key in (("taskOutputParameter", "outputParameterKey"),
                                ("taskOutputArtifact", "outputArtifactKey")):
            if key in spec:
                producer = need(spec[key], "producerTask", f"task {consumer!r} input", str)
                output = need(spec[key], output_key, f"task {consumer!r} input", str)
                if producer not in scope.outputs or output not in scope.outputs[producer]:
                    raise UnsupportedFeature(
                        f"task {consumer!r} reads output {output!r} of {producer!r}, which the Argo target cannot "
                        "reach (a dsl.Collected fan-in out of a ParallelFor is not supported yet).")
                return scope.outputs[producer][output]
        raise MalformedIR(f"pipeline IR: task {consumer!r} has an input of an unknown kind: {sorted(spec)}.")

    def job_constant(self, text: str, kfp_type: str, consumer: str) -> refs.Ref:
        translated = placeholders.translate_job_placeholders(text, self.options.kind, consumer, in_pod=False)
        if "{{$" in translated:
            raise UnsupportedFeature(f"task {consumer!r}: the KFP placeholder in {text!r} has no Argo equivalent.")
        parts = re.split(r"\{\{([a-zA-Z.]+)\}\}", translated)
        expr = " + ".join(refs.string_literal(p) if i % 2 == 0 else p for i, p in enumerate(parts) if p)
        return refs.Ref(expr or "''", kfp_type, text=translated)

    # -- DAGs ----------------------------------------------------------------------------------------------
    def convert_dag(self, component: dict, scope: Scope, where: str) -> dict[str, refs.Ref]:
        tasks = self.ir.dag_tasks(component, where)
        hooks = exit_hooks(tasks)
        scope.hooks = hooks
        for name in topological(tasks, where):
            if name in hooks.values():
                continue  # converted with the task it is the exit hook of
            self.convert_task(name, tasks[name], scope)
            if name in hooks:
                self.convert_exit_hook(hooks[name], tasks[hooks[name]], name, scope)
        outputs = {}
        dag = component["dag"]
        for group in ("parameters", "artifacts"):
            for output_name, spec in dag.get("outputs", {}).get(group, {}).items():
                outputs[output_name] = self.dag_output(spec, scope, where, output_name)
        return outputs

    def dag_output(self, spec: dict, scope: Scope, where: str, output: str) -> refs.Ref:
        if "valueFromParameter" in spec:
            ref = spec["valueFromParameter"]
            return self._subtask_output(scope, ref.get("producerSubtask"), ref.get("outputParameterKey"), where)
        selectors = (spec.get("valueFromOneof", {}).get("parameterSelectors") or spec.get("artifactSelectors")
                     or spec.get("valueFromOneof", {}).get("artifactSelectors"))
        if not selectors:
            raise MalformedIR(f"pipeline IR: {where}: output {output!r} has an unknown form: {sorted(spec)}.")
        key = "outputParameterKey" if "outputParameterKey" in selectors[0] else "outputArtifactKey"
        choices = [self._subtask_output(scope, s.get("producerSubtask"), s.get(key), where) for s in selectors]
        if len(choices) == 1:
            return choices[0]
        # dsl.OneOf: exactly one branch ran; pick the output of the one that succeeded.
        expr = "nil"
        for choice in reversed(choices):
            if choice.producer is None:
                raise UnsupportedFeature(f"{where}: output {output!r} is a OneOf over values that are not task outputs.")
            expr = f"(tasks{refs.index(choice.producer)}.status == 'Succeeded' ? {choice.expr} : {expr})"
        return refs.Ref(expr, choices[0].kfp_type)

    @staticmethod
    def _subtask_output(scope: Scope, producer, key, where: str) -> refs.Ref:
        if producer not in scope.outputs or key not in scope.outputs[producer]:
            raise MalformedIR(f"pipeline IR: {where}: an output names {producer!r}.{key!r}, which is not a task output.")
        return scope.outputs[producer][key]

    def convert_task(self, name: str, task: dict, scope: Scope) -> None:
        ref_name, component = self.ir.component(task, name)
        for key in sorted(set(task) - KNOWN_TASK_KEYS):
            self.warn(f"task {name!r}: IR field {key!r} is not carried over to the Argo target")
        for key in sorted(set(component) - KNOWN_COMPONENT_KEYS):
            self.warn(f"task {name!r}: component field {key!r} is not carried over to the Argo target")
        inputs = self.task_inputs(task, component, scope, name)
        depends = dict(scope.depends)
        for ref in inputs.values():
            if ref.producer:
                depends[ref.producer] = f"{ref.producer}.Succeeded"
        for upstream in task.get("dependentTasks", []):
            depends.update(scope.leaves.get(upstream, {}))
        trigger = task.get("triggerPolicy", {})
        if trigger.get("strategy") == "ALL_UPSTREAM_TASKS_COMPLETED":
            # ignore_upstream_failure() with several upstreams: run once each has ended, whatever its phase
            # (docs/enhanced-depends-logic.md). The run's phase then follows this task, not the failed one.
            self.warn(f"task {name!r} runs after its upstream tasks whatever their outcome; on Argo the run then "
                      "ends with this task's phase, where KFP reports the upstream failure")
            for upstream in task.get("dependentTasks", []):
                for argo in scope.leaves.get(upstream, {}):
                    depends[argo] = "(" + " || ".join(f"{argo}.{p}" for p in COMPLETED) + ")"
        elif trigger.get("strategy") not in (None, "ALL_UPSTREAM_TASKS_SUCCEEDED"):
            raise UnsupportedFeature(f"task {name!r}: trigger strategy {trigger['strategy']} is not supported.")
        task_conditions = list(scope.conditions)
        if trigger.get("condition"):
            task_conditions.append(conditions.translate(trigger["condition"], inputs, name))
        if "parameterIterator" in task or "artifactIterator" in task:
            self.convert_loop(name, task, component, inputs, task_conditions, depends, scope)
        elif "dag" in component and name in scope.hooks:
            self.convert_group_template(name, component, inputs, task_conditions, depends, scope)
        elif "dag" in component:
            child = Scope(resolve=lambda n, sel, v=inputs, c=name: _lookup(v, n, sel, c), conditions=task_conditions,
                          depends=depends, tasks=scope.tasks)
            scope.outputs[name] = self.convert_dag(component, child, f"pipeline {ref_name!r}")
            scope.leaves[name] = {k: v for leaves in child.leaves.values() for k, v in leaves.items()}
        else:
            self.convert_executor_task(name, task, component, inputs, task_conditions, depends, scope)

    def dag_task(self, name: str, template: str, arguments: list[dict], depends: dict[str, str],
                 task_conditions: list[str], **extra) -> dict:
        spec = {"name": name, "template": template}
        if arguments:
            spec["arguments"] = {"parameters": arguments}
        if depends:
            spec["depends"] = " && ".join(depends[k] for k in sorted(depends))
        when = conditions.when(task_conditions)
        if when:
            spec["when"] = when
        spec.update(extra)
        return spec

    @staticmethod
    def arguments(inputs: dict[str, refs.Ref], picked: dict[str, refs.Pick]) -> list[dict]:
        """A container task's arguments: each input's value, or once per upstream the output its template picks
        inputs from; a single artifact's key the template reads from its JSON, a list's common prefix is passed."""
        result = picks.carrier_arguments(picked)
        for input_name, ref in sorted(inputs.items()):
            if input_name not in picked:
                result.append({"name": input_name, "value": ref.argument()})
            if ref.kfp_type == "artifact_list":
                result.append({"name": artifacts.key_parameter(input_name), "value": ref.collected_key})
        return result

    def convert_executor_task(self, name, task, component, inputs, task_conditions, depends, scope) -> None:
        label, executor = self.ir.executor(component, name)
        if "importer" in executor:
            scope.outputs[name] = {"artifact": importer_output(executor["importer"], inputs, name, self.options.bucket)}
            scope.leaves[name] = {}
            return
        if "container" not in executor:
            kind = next(iter(executor), "unknown")
            raise UnsupportedFeature(f"task {name!r}: executor kind {kind!r} is not supported by the Argo target.")
        argo_name = self.unique(name)
        if pvc_stubs.is_resource_stub(executor["container"].get("image", "")):
            template, arguments, outputs = pvc_stubs.build(argo_name, executor["container"]["image"], inputs)
            self.templates.append(template)
            scope.tasks.append(self.dag_task(argo_name, argo_name, arguments, depends, task_conditions))
            scope.argo_task[name] = scope.tasks[-1]
            scope.outputs[name] = outputs
            term = f"{argo_name}.Succeeded"
            scope.leaves[name] = {argo_name: f"({term} || {argo_name}.Skipped)" if task_conditions else term}
            return
        platform = self.ir.platform_executors.get(label, {})
        for n, mount in enumerate(platform.get("pvcMount", [])):
            # The claim named by a constant or by another task's output (CreatePVC): a template input.
            source = mount.get("pvcNameParameter") or {k: mount[k] for k in ("taskOutputParameter", "constant",
                                                                             "componentInputParameter") if k in mount}
            if "constant" in source or "pvcName" in mount:
                value = source.get("constant") or mount.get("pvcName")
                source = {"runtimeValue": {"constant": value}}
            inputs = {**inputs, f"pvc-{n}": self.resolve(source, "STRING", scope, name)}
            if inputs[f"pvc-{n}"].producer:
                depends = {**depends, inputs[f"pvc-{n}"].producer: f"{inputs[f'pvc-{n}'].producer}.Succeeded"}
        # The run's own identity stays out of the memoize key (caching.py).
        per_run = {k for k, v in inputs.items() if v.text and placeholders.RUN_VARIABLES.search(v.text)}
        built = container_executor.build(self, argo_name, name, task, component, label, executor["container"],
                                         inputs, per_run)
        self.templates.append(built.template)
        self.cached_images |= built.images
        self.pull_secrets |= built.pull_secrets
        scope.tasks.append(self.dag_task(argo_name, argo_name, self.arguments(inputs, built.picks), depends,
                                         task_conditions))
        scope.argo_task[name] = scope.tasks[-1]
        scope.outputs[name] = built.outputs
        term = f"{argo_name}.Succeeded"
        scope.leaves[name] = {argo_name: f"({term} || {argo_name}.Skipped)" if task_conditions else term}

    def final_status(self, producer: str, scope: Scope, consumer: str) -> refs.Ref:
        """dsl.PipelineTaskFinalStatus of `producer`, from its Argo task's phase (docs/variables.md
        `tasks.<TASK>.status`), in the shape KFP's executor reads (kfp/dsl/executor.py)."""
        argo = scope.argo_task.get(producer)
        if argo is None:
            raise UnsupportedFeature(f"task {consumer!r} reads the final status of {producer!r}, which is not one Argo "
                                     "task here (an exit handler's exit task must be its only reader).")
        status = f"tasks{refs.index(argo['name'])}.status"
        failed = f"({status} == 'Failed' || {status} == 'Error')"
        message = refs.string_literal(f"Task {producer} failed.")
        expr = (f"toJson({{'state': {failed} ? 'FAILED' : 'SUCCEEDED', 'pipelineJobResourceName': workflow.name, "
                f"'pipelineTaskName': {refs.string_literal(producer)}, "
                f"'error': {failed} ? {{'code': 1, 'message': {message} }} : {{ }} }})")
        return refs.Ref(expr, "TASK_FINAL_STATUS")

    def nested_template(self, name: str, component: dict, inputs: dict[str, refs.Ref], suffix: str):
        """A KFP sub-DAG as an Argo DAG template of its own: (template name, arguments, outputs, producers)."""
        template_name = self.unique(f"{name}-{suffix}")
        used: dict[str, tuple[str, refs.Ref]] = {}

        def inner_input(input_name: str, selector: str | None = None) -> refs.Ref:
            outer = _lookup(inputs, input_name, None, name)
            inner = passed_in(input_name, outer)
            used[input_name] = (outer.argument(), inner)
            return select_field(inner, selector, name) if selector else inner

        child = Scope(resolve=inner_input, conditions=[], depends={}, tasks=[])
        inner_outputs = self.convert_dag(component, child, f"pipeline {name!r}")
        template = {"name": template_name, "dag": {"tasks": child.tasks}}
        if used:
            template["inputs"] = {"parameters": [{"name": n} for n in sorted(used)]}
        if inner_outputs:
            template["outputs"] = {"parameters": [{"name": out, "valueFrom": {"expression": ref.expr}}
                                                  for out, ref in sorted(inner_outputs.items())]}
        self.templates.append(template)
        arguments = [{"name": n, "value": used[n][0]} for n in sorted(used)]
        producers = {inputs[n].producer for n in used if n in inputs and inputs[n].producer}
        return template_name, arguments, inner_outputs, producers

    def convert_group_template(self, name, component, inputs, task_conditions, depends, scope) -> None:
        """A group that has an exit hook (dsl.ExitHandler) stays one Argo DAG task, so that its exit
        hook runs once it ends and its failure still fails the run (docs/lifecyclehook.md)."""
        template_name, arguments, inner_outputs, producers = self.nested_template(name, component, inputs, "dag")
        depends = {**depends, **{p: f"{p}.Succeeded" for p in producers}}
        argo_name = self.unique(name)
        scope.tasks.append(self.dag_task(argo_name, template_name, arguments, depends, task_conditions))
        scope.argo_task[name] = scope.tasks[-1]
        scope.outputs[name] = {out: refs.Ref(f"tasks{refs.index(argo_name)}.outputs.parameters{refs.index(out)}",
                                             ref.kfp_type, argo_name)
                               for out, ref in inner_outputs.items()}
        term = f"{argo_name}.Succeeded"
        scope.leaves[name] = {argo_name: f"({term} || {argo_name}.Skipped)" if task_conditions else term}

    def convert_exit_hook(self, name: str, task: dict, upstream: str, scope: Scope) -> None:
        """The exit task of dsl.ExitHandler (or one ignore_upstream_failure() task) as the `exit` lifecycle
        hook of its upstream's Argo task: it runs once that task ends, whatever its phase, and the task's
        failure still fails the run, as on KFP (docs/lifecyclehook.md)."""
        _, component = self.ir.component(task, name)
        if "parameterIterator" in task or "artifactIterator" in task:
            raise UnsupportedFeature(f"exit task {name!r} is a loop; an Argo exit hook runs a step or a pipeline.")
        if task.get("triggerPolicy", {}).get("condition") or scope.conditions:
            raise UnsupportedFeature(f"exit task {name!r} has a condition, which an Argo exit hook cannot carry.")
        inputs = self.task_inputs(task, component, scope, name)
        if "dag" in component:  # an exit task that is a pipeline: its DAG template is the hook
            template_name, arguments, _, _ = self.nested_template(name, component, inputs, "exit")
            hook = {"template": template_name}
            if arguments:
                hook["arguments"] = {"parameters": arguments}
            scope.argo_task[upstream].setdefault("hooks", {})["exit"] = hook
            scope.outputs[name] = {}
            scope.leaves[name] = {}
            return
        holder = Scope(resolve=scope.resolve, conditions=[], depends={}, tasks=[], outputs=scope.outputs,
                       leaves={}, argo_task={})
        self.convert_executor_task(name, task, component, inputs, [], {}, holder)
        (hook_task,) = holder.tasks
        hook = {"template": hook_task["template"]}
        if "arguments" in hook_task:
            hook["arguments"] = hook_task["arguments"]
        scope.argo_task[upstream].setdefault("hooks", {})["exit"] = hook
        scope.outputs[name] = holder.outputs[name]
        scope.leaves[name] = {}

    def convert_loop(self, name, task, component, inputs, task_conditions, depends, scope) -> None:
        over_artifacts = "artifactIterator" in task
        iterator = task["artifactIterator" if over_artifacts else "parameterIterator"]
        item_input = need(iterator, "itemInput", f"loop {name!r} iterator", str)
        collected = self.collected_outputs(component, name)
        body_name = self.unique(f"{name}-body")
        used: dict[str, tuple[str, refs.Ref]] = {}  # body input -> (argument, its Ref inside the body)
        definitions = component.get("inputDefinitions", {})

        def body_input(input_name: str, selector: str | None = None) -> refs.Ref:
            if input_name == item_input and over_artifacts:
                # ParallelFor over artifacts: each item is one artifact's JSON from the list.
                ref = refs.input_artifact(input_name)
                used[input_name] = ("{{item}}", ref)
                return ref
            if input_name == item_input:
                kfp_type = definitions.get("parameters", {}).get(input_name, {}).get("parameterType", "STRING")
                if selector is None:
                    parameter, argument = input_name, "{{item}}"
                else:
                    match = re.fullmatch(r'parseJson\(string_value\)\["([A-Za-z0-9_]+)"\]', selector)
                    if not match:
                        raise UnsupportedFeature(f"loop {name!r}: the item selector {selector!r} is not supported.")
                    parameter, argument = f"{input_name}-{match.group(1)}", f"{{{{item.{match.group(1)}}}}}"
                    kfp_type = "STRING"
                ref = refs.input_parameter(parameter, kfp_type)
                used[parameter] = (argument, ref)
                return ref
            if selector:
                raise UnsupportedFeature(f"loop {name!r}: selector {selector!r} on {input_name!r} is not supported.")
            if input_name not in inputs:
                raise UnsupportedFeature(f"loop {name!r}: its body reads {input_name!r}, which the loop does not receive.")
            outer = inputs[input_name]
            inner = passed_in(input_name, outer)
            used[input_name] = (outer.argument(), inner)
            return inner

        body = Scope(resolve=body_input, conditions=[], depends={}, tasks=[])
        inner_outputs = self.convert_dag(component, body, f"loop {name!r}")
        body_template = {"name": body_name, "dag": {"tasks": body.tasks}}
        if used:
            body_template["inputs"] = {"parameters": [{"name": n} for n in sorted(used)]}
        if collected:
            # Each iteration's value as the body's output; Argo lists them all on the loop task.
            body_template["outputs"] = {"parameters": [
                {"name": out, "valueFrom": {"expression": refs.iteration_value(inner_outputs[out])}}
                for out in sorted(collected)]}
        self.templates.append(body_template)
        items = need(iterator, "items", f"loop {name!r} iterator", dict)
        loop = {}
        if not over_artifacts and "raw" in items:
            try:
                loop["withItems"] = values._whole_numbers_as_ints(json.loads(items["raw"]))
            except ValueError:
                raise MalformedIR(f"pipeline IR: loop {name!r}: items.raw is not a JSON list: {items['raw'][:60]!r}.") from None
        else:
            # Over a list of artifacts or over a list parameter: either way a value the loop receives.
            source_key = "inputArtifact" if over_artifacts else "inputParameter"
            source_name = need(items, source_key, f"loop {name!r}.items", str)
            if source_name not in inputs:
                raise MalformedIR(f"pipeline IR: loop {name!r} iterates over {source_name!r}, which it does not receive.")
            source = inputs[source_name]
            loop["withParam"] = source.argument()
            if source.producer:
                depends = {**depends, source.producer: f"{source.producer}.Succeeded"}
        for outer in (inputs[n] for n in used if n in inputs):
            if outer.producer:
                depends = {**depends, outer.producer: f"{outer.producer}.Succeeded"}
        arguments = [{"name": n, "value": used[n][0]} for n in sorted(used)]
        argo_name = self.unique(name)
        outputs_spec = [{"name": out, "valueFrom": {"parameter": f"{{{{tasks.iteration.outputs.parameters.{out}}}}}"}}
                        for out in sorted(collected)]
        parallelism = task.get("iteratorPolicy", {}).get("parallelismLimit")
        if not parallelism:
            scope.tasks.append(self.dag_task(argo_name, body_name, arguments, depends, task_conditions, **loop))
        else:
            # Argo limits parallelism per template, so the loop gets a template of its own whose only task
            # fans out: at most `parallelism` iterations run at once.
            driver = self.unique(f"{name}-loop")
            outer_args = [a for a in arguments if "{{item" not in a["value"]]
            inner_args = [a if "{{item" in a["value"] else {"name": a["name"], "value": f"{{{{inputs.parameters.{a['name']}}}}}"}
                          for a in arguments]
            if "withParam" in loop:
                outer_args.append({"name": "loop-items", "value": loop["withParam"]})
                loop["withParam"] = "{{inputs.parameters.loop-items}}"
            template = {"name": driver, "parallelism": int(parallelism),
                        "dag": {"tasks": [self.dag_task("iteration", body_name, inner_args, {}, [], **loop)]}}
            if outer_args:
                template["inputs"] = {"parameters": [{"name": a["name"]} for a in outer_args]}
            if outputs_spec:
                template["outputs"] = {"parameters": outputs_spec}
            self.templates.append(template)
            scope.tasks.append(self.dag_task(argo_name, driver, outer_args, depends, task_conditions))
        term = f"{argo_name}.Succeeded"
        scope.leaves[name] = {argo_name: f"({term} || {argo_name}.Skipped)" if task_conditions else term}
        scope.outputs[name] = {}
        for out, kind in collected.items():
            key = None
            if kind == "artifact_list":
                inner = inner_outputs[out]
                group = inner.collected_key or (artifacts.group_key(self.options.prefix, inner.producer)
                                                if inner.producer else None)
                if group is None:
                    raise UnsupportedFeature(f"loop {name!r}: output {out!r} collects artifacts that no step in the "
                                             "loop produces.")
                key = group
            scope.outputs[name][out] = refs.loop_output(argo_name, out, kind, key)

    def collected_outputs(self, component: dict, loop: str) -> dict[str, str]:
        """The loop's dsl.Collected outputs (name -> LIST or artifact_list); marks the steps that produce
        collected artifacts so that their outputs land under one prefix (artifacts.group_key)."""
        definitions = component.get("outputDefinitions", {})
        kinds = {n: "LIST" for n in definitions.get("parameters", {})}
        kinds.update({n: "artifact_list" for n in definitions.get("artifacts", {})})
        dag_outputs = component.get("dag", {}).get("outputs", {})
        for spec in dag_outputs.get("artifacts", {}).values():
            for selector in spec.get("artifactSelectors", []):
                self.collected_producers.add(selector.get("producerSubtask", ""))
        unknown = sorted(set(kinds) - set(dag_outputs.get("parameters", {})) - set(dag_outputs.get("artifacts", {})))
        if unknown:
            raise MalformedIR(f"pipeline IR: loop {loop!r} declares output {unknown[0]!r}, which its DAG does not set.")
        return kinds


COMPLETED = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted")


def exit_hooks(tasks: dict) -> dict[str, str]:
    """{upstream: exit task} for each task that runs after exactly one upstream whatever its outcome
    (dsl.ExitHandler's exit task, or ignore_upstream_failure() after one task) and that nothing follows."""
    followed = {dep for task in tasks.values() for dep in task.get("dependentTasks", [])}
    found = {}
    for name, task in tasks.items():
        upstream = task.get("dependentTasks", [])
        if (task.get("triggerPolicy", {}).get("strategy") == "ALL_UPSTREAM_TASKS_COMPLETED" and len(upstream) == 1
                and name not in followed and upstream[0] not in found):
            found[upstream[0]] = name
    return found


def passed_in(name: str, outer: refs.Ref) -> refs.Ref:
    """`outer` as seen inside a DAG template (a nested pipeline, a loop body) that receives it as input `name`."""
    if outer.kfp_type == "artifact":
        return refs.input_artifact(name)
    return refs.input_parameter(name, outer.kfp_type, outer.collected_key)


def _lookup(inputs: dict[str, refs.Ref], name: str, selector: str | None, consumer: str) -> refs.Ref:
    if name not in inputs:
        raise UnsupportedFeature(f"{consumer!r} reads {name!r}, which it does not receive.")
    return select_field(inputs[name], selector, consumer) if selector else inputs[name]


def select_field(ref: refs.Ref, selector: str, consumer: str) -> refs.Ref:
    """KFP's field selector on a JSON value (`parseJson(string_value)["key"]`, a loop item's field) as
    Argo's jsonpath: a string field comes out as text, any other as JSON, i.e. its Argo string form."""
    match = re.fullmatch(r'parseJson\(string_value\)\["([A-Za-z0-9_]+)"\]', selector)
    if not match:
        raise UnsupportedFeature(f"{consumer!r}: the selector {selector!r} is not supported.")
    return refs.Ref(f"jsonpath({ref.expr}, {refs.string_literal('$.' + match.group(1))})", "STRING", ref.producer)
