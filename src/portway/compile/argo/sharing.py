"""Large pipelines: identical step templates shared, so that a 1,000-task pipeline stays far under etcd's limit.

Each KFP task gets its own container template (its name in the pod label `portway.dev/step`, its
placeholders resolved for what it is passed). In a large pipeline many of those templates are the
same but for the label; above SHARE_ABOVE bytes they are merged into one template per distinct step,
and the label comes from an input parameter each DAG task passes (Argo substitutes
`{{inputs.parameters.*}}` in a template's metadata, docs/variables.md "All Templates").
"""

from __future__ import annotations

import json

from portway.compile.argo import limits

SHARE_ABOVE = 256 * 1024
STEP_LABEL = "portway.dev/step"
TASK_PARAMETER = "kfp-task"


def _signature(template: dict) -> str:
    copy = {k: v for k, v in template.items() if k != "name"}
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
    canonical: dict[str, str] = {}  # signature -> template name kept
    renamed: dict[str, tuple[str, str]] = {}  # template name -> (kept name, its step label)
    kept = []
    for template in spec["templates"]:
        if "container" not in template:
            kept.append(template)
            continue
        signature = _signature(template)
        label = template.get("metadata", {}).get("labels", {}).get(STEP_LABEL, "")
        if signature in canonical:
            renamed[template["name"]] = (canonical[signature], label)
            continue
        canonical[signature] = template["name"]
        renamed[template["name"]] = (template["name"], label)
        template.setdefault("inputs", {}).setdefault("parameters", []).append({"name": TASK_PARAMETER})
        template["metadata"]["labels"][STEP_LABEL] = f"{{{{inputs.parameters.{TASK_PARAMETER}}}}}"
        kept.append(template)
    spec["templates"] = kept
    for template in kept:
        for task in template.get("dag", {}).get("tasks", []):
            for holder in (task, *task.get("hooks", {}).values()):
                if holder.get("template") in renamed:
                    name, label = renamed[holder["template"]]
                    holder["template"] = name
                    holder.setdefault("arguments", {}).setdefault("parameters", []).append(
                        {"name": TASK_PARAMETER, "value": label})
