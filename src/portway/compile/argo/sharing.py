"""Large pipelines: identical step templates shared, so that a 1,000-task pipeline stays far under etcd's limit.

Each KFP task gets its own container template (its name in the pod label `portway.dev/step`, its
placeholders resolved for what it is passed). In a large pipeline many of those templates are the
same but for the label and the JSON paths that pick inputs out of upstream outputs (picks.py);
above SHARE_ABOVE bytes they are merged into one template per distinct step. The label comes from an
input parameter each DAG task passes (Argo substitutes `{{inputs.parameters.*}}` in a template's
metadata, docs/variables.md "All Templates"); a task whose paths differ from the kept template's
defaults passes its own.
"""

from __future__ import annotations

import json

from portway.compile.argo import limits, picks

SHARE_ABOVE = 256 * 1024
STEP_LABEL = "portway.dev/step"
TASK_PARAMETER = "kfp-task"


def _selector_defaults(template: dict) -> dict[str, str]:
    return {p["name"]: p["default"] for p in template.get("inputs", {}).get("parameters", [])
            if picks.is_selector_parameter(p["name"]) and "default" in p}


def _signature(template: dict) -> str:
    copy = {k: v for k, v in template.items() if k != "name"}
    if "inputs" in copy:  # the paths are per task: the kept template's are defaults, others are passed
        parameters = [{"name": p["name"]} if picks.is_selector_parameter(p["name"]) else p
                      for p in copy["inputs"].get("parameters", [])]
        copy["inputs"] = {**copy["inputs"], "parameters": parameters}
    labels = dict(copy.get("metadata", {}).get("labels", {}))
    labels.pop(STEP_LABEL, None)
    copy["metadata"] = {**copy.get("metadata", {}), "labels": labels}
    if "memoize" in copy:  # the kept template's cache ConfigMap serves every task that shares it
        copy["memoize"] = {**copy["memoize"], "cache": None}
    return json.dumps(copy, sort_keys=True)


def share_templates(spec: dict) -> None:
    """Merge container templates that differ only in name and step label (in place)."""
    if limits.document_size(spec) <= SHARE_ABOVE:
        return
    canonical: dict[str, dict] = {}  # signature -> template kept
    renamed: dict[str, tuple[str, list[dict]]] = {}  # template name -> (kept name, the arguments its tasks add)
    kept = []
    for template in spec["templates"]:
        if "container" not in template:
            kept.append(template)
            continue
        signature = _signature(template)
        label = template.get("metadata", {}).get("labels", {}).get(STEP_LABEL, "")
        added = [{"name": TASK_PARAMETER, "value": label}]
        if signature in canonical:
            kept_defaults = _selector_defaults(canonical[signature])
            added += [{"name": name, "value": path} for name, path in sorted(_selector_defaults(template).items())
                      if kept_defaults.get(name) != path]
            renamed[template["name"]] = (canonical[signature]["name"], added)
            continue
        canonical[signature] = template
        renamed[template["name"]] = (template["name"], added)
        template.setdefault("inputs", {}).setdefault("parameters", []).append({"name": TASK_PARAMETER})
        template["metadata"]["labels"][STEP_LABEL] = f"{{{{inputs.parameters.{TASK_PARAMETER}}}}}"
        kept.append(template)
    spec["templates"] = kept
    for template in kept:
        for task in template.get("dag", {}).get("tasks", []):
            for holder in (task, *task.get("hooks", {}).values()):
                if holder.get("template") in renamed:
                    name, added = renamed[holder["template"]]
                    holder["template"] = name
                    holder.setdefault("arguments", {}).setdefault("parameters", []).extend(added)
