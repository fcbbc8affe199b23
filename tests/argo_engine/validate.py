"""What the Argo controller rejects before running a workflow (workflow/validate/validate.go).

- the entrypoint and every referenced template must exist ("template name 'x' undefined");
- a workflow parameter needs a value: `spec.arguments.parameters.X.value is required`
  (from `value`, `valueFrom.configMapKeyRef`, or a submitted parameter); a value must be in `enum`;
- `{{inputs.parameters.X}}` / `{{inputs.artifacts.X...}}` must name a declared input, and
  `{{workflow.parameters.X}}` a workflow parameter ("failed to resolve {{...}}");
- a DAG task may only reference `tasks.Y` of a task of the same DAG, a step `steps.Y` of the template.
The engine reports these as the controller does: the workflow Failed with "invalid spec: ...".
"""

from __future__ import annotations

import re

from .substitution import tags_in


class ValidationError(Exception):
    pass


# docs/variables.md, global variables (workflow.scheduledTime exists only for CronWorkflows)
WORKFLOW_VARIABLE = re.compile(
    r"workflow\.(name|namespace|uid|mainEntrypoint|serviceAccountName|priority|status|failures|duration|"
    r"parameters|parameters\.[^.]+|annotations|annotations\.[^.]+|labels|labels\.[^.]+|"
    r"creationTimestamp(\.[A-Za-z0-9]+)?|outputs\.(parameters|artifacts)\.[^.]+)")


def validate_workflow(wf: dict, submitted: dict[str, str], configmaps: dict) -> dict:
    spec = wf.get("spec") or {}
    templates = {t.get("name"): t for t in spec.get("templates") or []}
    entry = spec.get("entrypoint")
    if not entry:
        raise ValidationError("spec.entrypoint is required")
    if entry not in templates:
        raise ValidationError(f"spec.entrypoint template name '{entry}' undefined")
    args = spec.get("arguments") or {}
    params = []
    declared = set()
    for param in args.get("parameters") or []:
        param = dict(param)
        name = param.get("name")
        declared.add(name)
        if name in submitted:
            param["value"] = submitted[name]
        elif "value" not in param:
            cm = (param.get("valueFrom") or {}).get("configMapKeyRef")
            if cm and cm.get("key") in (configmaps.get(cm.get("name")) or {}):
                param["value"] = configmaps[cm["name"]][cm["key"]]
            elif "default" in param:
                param["value"] = param["default"]
            elif cm and "default" in (param.get("valueFrom") or {}):
                param["value"] = param["valueFrom"]["default"]
            else:
                raise ValidationError(f"spec.arguments.parameters.{name}.value is required")
        value = param["value"]
        param["value"] = value if isinstance(value, str) else ("true" if value is True else "false"
                                                                 if value is False else str(value))
        if param.get("enum") and param["value"] not in [str(e) for e in param["enum"]]:
            raise ValidationError(f"spec.arguments.{name}.value: {param['value']} is not in the enum {param['enum']}")
        params.append(param)
    unknown = set(submitted) - declared
    if unknown:
        raise ValidationError(f"parameters {sorted(unknown)} are not declared in spec.arguments")
    for tmpl in templates.values():
        _check_template(tmpl, templates, declared)
    return {"parameters": params, "artifacts": list(args.get("artifacts") or [])}


def _check_ref(holder: dict, where: str, templates: dict) -> None:
    if holder.get("template") and holder["template"] not in templates:
        raise ValidationError(f"{where} template name '{holder['template']}' undefined")


def _check_template(tmpl: dict, templates: dict, declared: set) -> None:
    name = tmpl.get("name")
    inputs = tmpl.get("inputs") or {}
    in_params = {p["name"] for p in inputs.get("parameters") or []}
    in_arts = {a["name"] for a in inputs.get("artifacts") or []}
    tasks = {t["name"] for t in (tmpl.get("dag") or {}).get("tasks") or []}
    steps = {s["name"] for g in tmpl.get("steps") or [] for s in (g if isinstance(g, list) else [g])}
    for task in (tmpl.get("dag") or {}).get("tasks") or []:
        _check_ref(task, f"templates.{name}.tasks.{task['name']}", templates)
    for group in tmpl.get("steps") or []:
        for step in group if isinstance(group, list) else [group]:
            _check_ref(step, f"templates.{name}.steps.{step['name']}", templates)
    for tag in tags_in({k: v for k, v in tmpl.items() if k != "name"}):
        if tag.startswith("="):
            continue
        tag = tag.strip()
        match = re.match(r"inputs\.parameters\.([^.]+)$", tag)
        if match and match.group(1) not in in_params:
            raise ValidationError(f"templates.{name}: failed to resolve {{{{{tag}}}}}")
        match = re.match(r"inputs\.artifacts\.([^.]+)", tag)
        if match and match.group(1) not in in_arts:
            raise ValidationError(f"templates.{name}: failed to resolve {{{{{tag}}}}}")
        match = re.match(r"workflow\.parameters\.(.+)$", tag)
        if match and match.group(1) not in declared | {"json"}:
            raise ValidationError(f"templates.{name}: failed to resolve {{{{{tag}}}}}")
        if tag.startswith("workflow.") and not WORKFLOW_VARIABLE.fullmatch(tag):
            raise ValidationError(f"templates.{name}: failed to resolve {{{{{tag}}}}}")
        match = re.match(r"tasks\.([^.]+)\.", tag)
        if match and tasks and match.group(1) not in tasks:
            raise ValidationError(f"templates.{name}: failed to resolve {{{{{tag}}}}}")
        match = re.match(r"steps\.([^.]+)\.", tag)
        if match and steps and match.group(1) not in steps:
            raise ValidationError(f"templates.{name}: failed to resolve {{{{{tag}}}}}")
    _check_output_refs(tmpl, templates)


def _declared_outputs(holder: dict, templates: dict) -> dict[str, set[str]] | None:
    """The outputs a task's/step's template declares (None when unknown: templateRef, inline)."""
    tmpl = templates.get(holder.get("template")) if holder.get("template") else None
    if tmpl is None:
        return None
    outputs = tmpl.get("outputs") or {}
    return {"parameters": {p["name"] for p in outputs.get("parameters") or []},
            "artifacts": {a["name"] for a in outputs.get("artifacts") or []}}


def _check_output_refs(tmpl: dict, templates: dict) -> None:
    """validate.go: `{{tasks.X.outputs.parameters.P}}` / `{{steps.X.outputs.artifacts.A}}` must name an output
    the referenced template declares; in a DAG a task may only refer to its ancestors."""
    from .dag import ancestors, dependencies_of

    name = tmpl.get("name")
    holders: dict[str, dict] = {}
    kind = "tasks" if "dag" in tmpl else "steps"
    if "dag" in tmpl:
        holders = {t["name"]: t for t in tmpl["dag"].get("tasks") or []}
    for group in tmpl.get("steps") or []:
        for step in group if isinstance(group, list) else [group]:
            holders[step["name"]] = step
    if not holders:
        return
    deps = {}
    if "dag" in tmpl:
        try:
            deps = {t: dependencies_of(task, holders)[0] for t, task in holders.items()}
        except Exception as exc:  # noqa: BLE001 - an unknown dependency is reported as invalid
            raise ValidationError(f"templates.{name}: {exc}") from None

    def check(tag: str, owner: str | None) -> None:
        match = re.match(rf"{kind}\.([^.]+)\.outputs\.(parameters|artifacts)\.([^.]+)$", tag)
        if match is None:
            return
        target, what, output = match.groups()
        if target not in holders:
            return
        if owner is not None and "dag" in tmpl and target not in ancestors(owner, deps):
            raise ValidationError(f"templates.{name}.tasks.{owner} failed to resolve {{{{{tag}}}}}: "
                                  f"{target} is not an ancestor")
        declared = _declared_outputs(holders[target], templates)
        if declared is not None and output not in declared[what]:
            raise ValidationError(f"templates.{name}: failed to resolve {{{{{tag}}}}}: template "
                                  f"{holders[target].get('template')!r} declares no output {what[:-1]} {output!r}")

    for holder_name, holder in holders.items():
        loops = any(k in holder for k in ("withItems", "withParam", "withSequence"))
        for tag in tags_in({k: v for k, v in holder.items() if k not in ("hooks",)}):
            if tag.startswith("="):
                continue
            if not loops and (tag.strip() == "item" or tag.strip().startswith("item.")):
                raise ValidationError(f"templates.{name}.{kind}.{holder_name} failed to resolve {{{{{tag.strip()}}}}}")
            check(tag.strip(), holder_name)
    for tag in tags_in(tmpl.get("outputs") or {}):
        if not tag.startswith("="):
            check(tag.strip(), None)
