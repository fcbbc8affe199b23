"""Output parameters of a template, as Argo's executor and controller produce them.

Source: argo-workflows workflow/executor/executor.go SaveParameters (a `valueFrom.path` file read
after the container ends, one trailing newline trimmed; a missing file uses `valueFrom.default`,
else the executor fails and the node is Error), workflow/controller/operator.go
getTemplateOutputsFromScope (`valueFrom.parameter` and `valueFrom.expression` for DAG and steps
templates, with `default` when the reference cannot be resolved), docs/variables.md. A parameter
with a plain `value` is that value, substituted. `supplied` needs a user to supply it (unsupported).
"""

from __future__ import annotations

from pathlib import Path

from .expressions import ExpressionError, evaluate, go_format
from .substitution import Scope, UnresolvedError, replace


class OutputError(Exception):
    pass


def read_parameter_file(host: Path, param: dict) -> str:
    value_from = param.get("valueFrom") or {}
    try:
        text = host.read_text()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        if "default" in value_from:
            return str(value_from["default"])
        raise OutputError(f"open {value_from['path']}: no such file or directory") from None
    return text[:-1] if text.endswith("\n") else text


def scope_outputs(template: dict, scope: Scope) -> list[dict]:
    """Output parameters of a DAG or steps template from its tasks' or steps' scope."""
    out = []
    for param in (template.get("outputs") or {}).get("parameters") or []:
        value_from = param.get("valueFrom") or {}
        if "value" in param and not value_from:
            value = replace(str(param["value"]), scope, allow_unresolved=False)
        elif "parameter" in value_from:
            try:
                value = replace(str(value_from["parameter"]), scope, allow_unresolved=False)
            except UnresolvedError:
                if "default" not in value_from:
                    raise
                value = str(value_from["default"])
        elif "expression" in value_from:
            try:
                result = evaluate(value_from["expression"], scope.expression_env())
                value = go_format(result)
            except ExpressionError:
                if "default" not in value_from:
                    raise
                value = str(value_from["default"])
        elif "supplied" in value_from:
            raise OutputError(f"output parameter {param['name']!r} is `supplied`: a user must supply it")
        else:
            raise OutputError(f"output parameter {param['name']!r} of template {template.get('name')!r} has no "
                              "value or valueFrom.parameter/expression")
        out.append(_record(param, value))
    return out


def _record(param: dict, value: str) -> dict:
    record = {"name": param["name"], "value": value}
    if param.get("globalName"):
        record["globalName"] = param["globalName"]
    return record


def leaf_outputs(template: dict, scope: Scope, read_path) -> list[dict]:
    """Output parameters of a container/script/resource template; `read_path(param)` reads a path one."""
    out = []
    for param in (template.get("outputs") or {}).get("parameters") or []:
        value_from = param.get("valueFrom") or {}
        if "path" in value_from:
            value = read_path(param)
        elif "value" in param:
            value = replace(str(param["value"]), scope, allow_unresolved=False)
        elif "expression" in value_from:
            value = go_format(evaluate(value_from["expression"], scope.expression_env()))
        elif "jsonPath" in value_from or "jqFilter" in value_from:
            value = read_path(param)
        elif "supplied" in value_from:
            raise OutputError(f"output parameter {param['name']!r} is `supplied`: a user must supply it")
        elif "default" in value_from:
            value = str(value_from["default"])
        else:
            raise OutputError(f"output parameter {param['name']!r} has no value source")
        out.append(_record(param, value))
    return out
