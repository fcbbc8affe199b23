"""Argo's and Kubernetes' limits, each written once beside its source.

Sources (Argo v4.1.2):
- workflow/validate/validate.go: `maxCharsInObjectName = 63` (Workflow and WorkflowTemplate names),
  `maxCharsInCronWorkflowName = 52` (the controller appends `-<unix time>` to each run's name),
  `workflowFieldNameFmt = "[a-zA-Z0-9][-a-zA-Z0-9]*"` with `workflowFieldMaxLength = 128` (template and
  DAG task names), `paramOrArtifactNameRegex = ^[-a-zA-Z0-9_]+$` (parameter and artifact names),
  CronWorkflow schedules parsed with robfig/cron's `ParseStandard`, and a CronWorkflow validated as a
  submitted Workflow (`Opts{}`), so every `spec.arguments` parameter needs a value.
- Kubernetes label values (k8s.io/apimachinery validation.IsValidLabelValue): at most 63 characters,
  `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`; object names are RFC 1123 labels/subdomains.
- etcd's request limit (about 1.5 MiB, `--max-request-bytes`) holds the whole object, and the controller
  writes the run's node status into the same Workflow, so the spec is refused above 1 MiB.
- Argo's memoize cache is a ConfigMap (workflow/controller/cache/configmap_cache.go); its data shares the
  same 1 MiB object limit, hence one ConfigMap per step (caching.py).
"""

from __future__ import annotations

import hashlib
import json
import re

from portway.errors import ParameterError

MAX_OBJECT_NAME = 63
MAX_CRON_WORKFLOW_NAME = 52
MAX_FIELD_NAME = 128
MAX_LABEL_VALUE = 63
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_CONFIGMAP_NAME = 253
FIELD_NAME = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*")
PARAMETER_NAME = re.compile(r"[-a-zA-Z0-9_]+")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def field_name(name: str, limit: int = MAX_FIELD_NAME) -> str:
    """A template/task name within Argo's field-name rule; a long or odd name keeps a hash of the original."""
    base = re.sub(r"[^a-zA-Z0-9-]+", "-", name).strip("-").lower() or "task"
    if len(base) <= limit and base == name:
        return base
    if len(base) > limit:
        base = base[:limit - 9].rstrip("-") + "-" + short_hash(name)
    return base


def label_value(value: str) -> str:
    """A string as a valid label value: at most 63 characters, starting and ending alphanumeric."""
    text = re.sub(r"[^-A-Za-z0-9_.]+", "-", value)
    if len(text) > MAX_LABEL_VALUE:
        text = text[:MAX_LABEL_VALUE - 9] + "-" + short_hash(value)
    text = text.strip("-_.")
    assert LABEL_VALUE.fullmatch(text), text
    return text


def check_object_name(name: str, kind: str, what: str) -> None:
    limit = MAX_CRON_WORKFLOW_NAME if kind == "CronWorkflow" else MAX_OBJECT_NAME
    if kind == "Workflow":
        limit -= 5  # generateName: the API server appends 5 random characters
    if len(name) > limit or not DNS_LABEL.fullmatch(name):
        raise ParameterError(
            f"{what} {name!r} is not a valid {kind} name: use at most {limit} lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (Argo's validate.go"
            + (": a CronWorkflow's runs append -<unix time>)." if kind == "CronWorkflow" else ").")
        )


def check_parameter_name(name: str, what: str) -> None:
    if not PARAMETER_NAME.fullmatch(name):
        raise ParameterError(f"{what} {name!r} is not a valid Argo parameter name: use letters, digits, '_' and '-'.")


# robfig/cron ParseStandard: five fields, or a descriptor. Month and weekday names are accepted.
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
           ("month", 1, 12, {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}),
           ("day of week", 0, 6, {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}))
_DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")


def _cron_value(text: str, low: int, high: int, names: dict) -> int:
    value = names.get(text.upper()) if text.upper() in names else (int(text) if text.isdigit() else None)
    if value is None or not low <= value <= high:
        raise ValueError(f"{text!r} is not in {low}-{high}")
    return value


def check_schedule(schedule: str) -> None:
    """Refuse a schedule Argo's `cron.ParseStandard` would refuse, naming the field."""
    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        text = text.split(None, 1)[1] if " " in text else ""
    if text in _DESCRIPTORS or (text.startswith("@every ") and _DURATION.fullmatch(text[7:].strip())):
        return
    fields = text.split()
    if len(fields) != 5:
        raise ParameterError(f"--schedule {schedule!r} is not a cron expression: expected five fields "
                             '(minute hour day-of-month month day-of-week, e.g. "0 3 * * *") or a descriptor '
                             "such as @daily, found " + str(len(fields)) + ".")
    for field, (what, low, high, names) in zip(fields, _FIELDS, strict=True):
        try:
            for part in field.split(","):
                span, _, step = part.partition("/")
                if step and (not step.isdigit() or int(step) == 0):
                    raise ValueError(f"step {step!r} is not a positive number")
                if span in ("*", "?"):
                    continue
                first, dash, last = span.partition("-")
                start = _cron_value(first, low, high, names)
                if dash and _cron_value(last, low, high, names) < start:
                    raise ValueError(f"range {span!r} runs backwards")
        except ValueError as exc:
            raise ParameterError(f"--schedule {schedule!r}: the {what} field {field!r} is invalid: {exc}.") from None


def document_size(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":")).encode())


def check_size(document: dict) -> int:
    """The document's JSON size; refuses one that etcd (and so the Argo server) would reject."""
    size = document_size(document)
    if size > MAX_DOCUMENT_BYTES:
        raise ParameterError(
            f"the Argo {document.get('kind')} is {size / 1024:.0f} KiB; Kubernetes stores objects up to about "
            f"{MAX_DOCUMENT_BYTES // 1024} KiB (etcd), with the run's status in the same object. Pass large values "
            "(candidate lists, configurations) as files or URIs instead of parameters."
        )
    return size
