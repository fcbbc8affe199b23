"""Every KFP IR placeholder in a container's command and args, as Argo template text.

KFP's launcher resolves these at run time (backend/src/v2/component/launcher_v2.go and
placeholders in sdk/python/kfp/dsl/placeholders.py); here Argo's templating does:
  {{$}}                                        the executor input JSON (executor_input below)
  {{$.inputs.parameters['x']}}                 {{inputs.parameters.x}} (the value's Argo string), or the value
                                               picked out of the upstream's executor output (picks.py)
  {{$.inputs.artifacts['a'].path|uri|metadata}} /s3/<bucket>/<key>, its URI, its metadata JSON
  {{$.inputs.artifacts['a'].metadata['k']}}    one metadata field as text
  {{$.outputs.artifacts['o'].path|uri|metadata}} the output's /s3 path, its URI, {}
  {{$.outputs.parameters['p'].output_file}}    a file Argo reads back as output parameter p
  {"Concat": [...]}, {"IfPresent": {...}}     joined / chosen at compile time (each task has its own
                                               template, so whether an input is passed is known)
  {{$.pipeline_job_name}} and the other pipeline-job placeholders: Argo's workflow variables.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from portway.compile.argo import artifacts, picks
from portway.compile.argo.ir import UnsupportedFeature
from portway.compile.argo.refs import Pick, index, string_literal, tag, typed_expr

# dsl.PIPELINE_*_PLACEHOLDER -> Argo variables (docs/variables.md "Global", "Container/Script Templates").
JOB_PLACEHOLDERS = {
    "{{$.pipeline_job_name}}": "workflow.name",
    "{{$.pipeline_job_resource_name}}": "workflow.name",
    "{{$.pipeline_job_uuid}}": "workflow.uid",
    "{{$.pipeline_job_create_time_utc}}": "workflow.creationTimestamp",
    "{{$.pipeline_job_schedule_time_utc}}": "workflow.scheduledTime",  # CronWorkflow only: see job_variable
    "{{$.pipeline_task_uuid}}": "pod.name",
}
RUN_IDENTITY = re.compile(r"\{\{\$\.pipeline_(job_name|job_resource_name|job_uuid|job_create_time_utc|"
                          r"job_schedule_time_utc|task_uuid|task_name)\}\}")
# The same identities once translated (Argo variables); kept out of memoize keys (caching.py).
RUN_VARIABLES = re.compile(r"\{\{(workflow\.(name|uid|creationTimestamp|scheduledTime)|pod\.name)\}\}")
_PLACEHOLDER = re.compile(r"\{\{\$(\.[^}]*)?\}\}")
_INPUT_PARAMETER = re.compile(r"\$\.inputs\.parameters\['([^']+)'\]")
_ARTIFACT = re.compile(r"\$\.(inputs|outputs)\.artifacts\['([^']+)'\]\.(path|uri|metadata)(?:\['([^']+)'\])?")
_OUTPUT_FILE = re.compile(r"\$\.outputs\.parameters\['([^']+)'\]\.output_file")


def job_variable(name: str, kind: str) -> str:
    # workflow.scheduledTime exists only in runs a CronWorkflow created (docs/variables.md "Global");
    # a one-off run's schedule time is its creation time, as on KFP.
    if name == "workflow.scheduledTime" and kind != "CronWorkflow":
        return "workflow.creationTimestamp"
    return name


def translate_job_placeholders(text: str, kind: str, task_name: str, in_pod: bool) -> str:
    """Pipeline-job placeholders in a constant or an argument, as simple Argo tags."""
    text = text.replace("{{$.pipeline_task_name}}", task_name)
    for placeholder, variable in JOB_PLACEHOLDERS.items():
        if variable == "pod.name" and not in_pod:
            variable = "workflow.uid"  # a DAG has no pod; the run's uid is the closest identity
        text = text.replace(placeholder, "{{" + job_variable(variable, kind) + "}}")
    return text


@dataclass
class Context:
    """What a container template knows when it resolves placeholders."""

    task: str
    kind: str
    bucket: str
    prefix: str
    parameter_types: dict[str, str]  # passed input parameters -> type
    input_artifacts: set[str]  # passed input artifacts
    executor_input: Callable[[], str]
    output_files: set[str]  # output parameters that come from files (filled in as placeholders name them)
    group: str | None = None  # outputs collected by a later step land under one prefix (artifacts.group_key)
    picks: dict[str, Pick] = dataclasses.field(default_factory=dict)  # inputs picked out of an upstream's output (picks.py)

    def present(self, name: str) -> bool:
        return name in self.parameter_types or name in self.input_artifacts


def expand(item: str, context: Context) -> list[str]:
    """One command/args item as zero or more Argo strings."""
    if item.startswith("{") and item.rstrip().endswith("}") and not item.startswith("{{"):
        try:
            structure = json.loads(item)
        except ValueError:
            structure = None
        if isinstance(structure, dict) and len(structure) == 1 and set(structure) <= {"Concat", "IfPresent"}:
            return _structured(structure, context)
    return [resolve(item, context)]


def _structured(structure: dict, context: Context) -> list[str]:
    if "Concat" in structure:
        return ["".join("".join(expand(_as_text(part), context)) for part in structure["Concat"])]
    spec = structure["IfPresent"]
    branch = spec.get("Then") if context.present(spec.get("InputName", "")) else spec.get("Else")
    if branch is None:
        return []
    branch = branch if isinstance(branch, list) else [branch]
    return [text for part in branch for text in expand(_as_text(part), context)]


def _as_text(part) -> str:
    return part if isinstance(part, str) else json.dumps(part)


def resolve(text: str, context: Context) -> str:
    def replace(match: re.Match) -> str:
        body = match.group(0)[2:-2]
        if body == "$":
            return context.executor_input()
        if body in ("$.pipeline_task_name",):
            return context.task
        whole = "{{" + body + "}}"
        if whole in JOB_PLACEHOLDERS:
            return "{{" + job_variable(JOB_PLACEHOLDERS[whole], context.kind) + "}}"
        found = _INPUT_PARAMETER.fullmatch(body)
        if found:
            name = found.group(1)
            if name not in context.parameter_types:
                return ""  # not passed and no default: KFP's launcher leaves it empty too
            return picks.value_tag(name, context.picks.get(name))
        found = _ARTIFACT.fullmatch(body)
        if found:
            side, name, field, key = found.groups()
            if side == "outputs":
                if field == "metadata":
                    return "" if key else "{}"
                return (artifacts.output_path if field == "path" else artifacts.output_uri)(
                    context.bucket, context.prefix, name, context.group)
            if name not in context.input_artifacts:
                return ""
            value = picks.value_expr(name, context.picks.get(name))
            if field == "path":
                return artifacts.input_path(context.bucket, name, value)
            if field == "uri":
                return tag(f"jsonpath({value}, '$.uri')")
            if key:  # one metadata field, as text (Sprig's toString: a string as is, a number printed)
                return tag(f"sprig.toString(jsonpath({value}, {string_literal('$.metadata.' + key)}))")
            return tag(f"toJson({typed_expr(value, 'artifact')}.metadata)")
        found = _OUTPUT_FILE.fullmatch(body)
        if found:
            context.output_files.add(found.group(1))
            return artifacts.output_parameter_file(found.group(1))
        raise UnsupportedFeature(f"task {context.task!r}: the placeholder {whole!r} has no Argo equivalent.")

    return _PLACEHOLDER.sub(replace, text)


def _value(name: str, kfp_type: str, nullable: bool, pick: Pick | None) -> str:
    value = typed_expr(picks.value_expr(name, pick), kfp_type)
    if nullable:  # an optional pipeline input left empty is None, as on KFP
        return f"(inputs.parameters{index(name)} == '' ? nil : {value})"
    return value


def executor_input(parameters: dict[str, str], input_artifacts: dict[str, bool], output_parameters: list[str],
                   output_artifacts: dict[str, dict], bucket: str, prefix: str, group: str | None = None,
                   nullable: frozenset[str] = frozenset(), picked: dict[str, Pick] | None = None) -> str:
    """KFP's ExecutorInput (pipeline_spec.proto) as one string Argo assembles at run time.

    The fixed parts are JSON written here; values enter only through expression tags and parameters
    that hold JSON, whose text Argo JSON-escapes (util/template/expression_template.go), so no value can
    break the document. `input_artifacts` maps each passed artifact input to whether it is a list.
    """
    picked = picked or {}
    if parameters:
        members = ", ".join(f"{string_literal(n)}: {_value(n, t, n in nullable, picked.get(n))}"
                            for n, t in sorted(parameters.items()))
        values = tag(f"toJson({{{members} }})")
    else:
        values = "{}"
    arts = ", ".join(
        f'"{n}": {{"artifacts": {{{{inputs.parameters.{n}}}}}}}' if is_list
        else f'"{n}": {{"artifacts": [{picks.value_tag(n, picked.get(n))}]}}' for n, is_list in sorted(input_artifacts.items()))
    outputs_parameters = ", ".join(
        f'"{n}": {{"outputFile": "{artifacts.output_parameter_file(n)}"}}' for n in sorted(output_parameters))
    outputs_artifacts = ", ".join(
        f'"{n}": {{"artifacts": [{{"name": "{n}", "type": {json.dumps(t, sort_keys=True)}, '
        f'"uri": "{artifacts.output_uri(bucket, prefix, n, group)}", "metadata": {{}}}}]}}'
        for n, t in sorted(output_artifacts.items()))
    text = (f'{{"inputs": {{"parameterValues": {values}, "artifacts": {{{arts}}}}}, '
            f'"outputs": {{"parameters": {{{outputs_parameters}}}, "artifacts": {{{outputs_artifacts}}}, '
            f'"outputFile": "{artifacts.EXECUTOR_OUTPUT_FILE}"}}}}')
    return text
