"""One typed-value conversion for compile, launch and submit: a KFP parameter value <-> the string Argo carries.

Argo parameters are strings. A KFP value travels as:
  STRING text as is; NUMBER_INTEGER decimal digits; NUMBER_DOUBLE Python's repr of the float;
  BOOLEAN "true" / "false"; LIST and STRUCT compact JSON.
The IR stores every number as a protobuf double (6 is written 6.0); integers are parsed from their
digits and never pass through float, so 2**63-1 survives.
"""

from __future__ import annotations

import json
import re

from portway.errors import ParameterError

TYPES = ("STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT")
_INTEGER = re.compile(r"[+-]?\d+")
# Argo substitutes variables inside parameter VALUES too: workflow/common/util.go SubstituteParams
# marshals the template with its inputs' values already set, replaces the globals, then the inputs
# (fasttemplate over "{{" "}}"), and expression tags are evaluated the same way. A value holding
# {{workflow.name}}, {{inputs.parameters.x}} or {{=...}} reaches the step substituted, where KFP
# passes it verbatim; Argo has no escape for "{{". Unknown names ({{ braces }}) are left alone.
_ARGO_TAG = re.compile(r"\{\{\s*(?:=|(?:workflow|inputs|outputs|tasks|steps|item|pod|node|retries|lastRetry)\b)"
                       r"[^}]*\}\}")


def argo_tags(text: str) -> list[str]:
    """The `{{...}}` in `text` that Argo would substitute (see _ARGO_TAG)."""
    return [match.group(0) for match in _ARGO_TAG.finditer(text)]


def substitution_note(text: str, what: str) -> str | None:
    """A warning naming `what` when Argo would rewrite part of its value, else None."""
    tags = argo_tags(text)
    if not tags:
        return None
    return (f"{what} holds {', '.join(sorted(set(tags)))}, which Argo substitutes inside parameter values "
            "(KFP passes it verbatim); the step will see it replaced")


def _whole_numbers_as_ints(value):
    # The IR's protobuf Value holds numbers as doubles: a default 6 arrives as 6.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_numbers_as_ints(v) for k, v in value.items()}
    return value


def render(value, kfp_type: str) -> str:
    """A typed value (from the IR, a default or Python) as the string Argo passes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(_whole_numbers_as_ints(value), sort_keys=True, separators=(",", ":"))
    if isinstance(value, float) and kfp_type != "NUMBER_DOUBLE" and value.is_integer():
        return str(int(value))
    return str(value)


def parse(raw: str, kfp_type: str, what: str):
    """An Argo (or --param) string as the IR type says; a ParameterError naming `what` otherwise."""
    text = raw.strip() if kfp_type != "STRING" else raw
    try:
        if kfp_type == "STRING":
            return raw
        if kfp_type == "NUMBER_INTEGER":
            if _INTEGER.fullmatch(text):
                return int(text)
            # "6.0" (a double that is whole) is an integer too; "6.5" is not.
            if re.fullmatch(r"[+-]?\d+\.0*", text):
                return int(text.split(".")[0])
            raise ValueError
        if kfp_type == "NUMBER_DOUBLE":
            number = float(text)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError  # JSON (and so KFP's executor input) has no NaN or infinity
            return number
        if kfp_type == "BOOLEAN":
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if kfp_type in ("LIST", "STRUCT"):
            value = json.loads(text)
            if not isinstance(value, list if kfp_type == "LIST" else dict):
                raise ValueError
            return value
    except ValueError:
        expected = {"NUMBER_INTEGER": "a whole number", "NUMBER_DOUBLE": "a finite number",
                    "BOOLEAN": "true or false", "LIST": "a JSON list", "STRUCT": "a JSON object"}[kfp_type]
        raise ParameterError(f"{what} is declared {kfp_type} but got {raw[:80]!r}; expected {expected}.") from None
    raise ParameterError(f"{what} has type {kfp_type!r}; expected one of {', '.join(TYPES)}.")


def normalise(raw: str, kfp_type: str, what: str) -> str:
    """A user's string (--param) checked against its type and written in the canonical form; a value
    that Argo would rewrite (argo_tags) is refused, since it would not reach the step as given."""
    text = render(parse(raw, kfp_type, what), kfp_type)
    if tags := argo_tags(text):
        raise ParameterError(f"{what} holds {', '.join(sorted(set(tags)))}, which Argo would substitute inside the "
                             "value before the step sees it (Argo has no escape for '{{'); pass the text without "
                             "'{{' or through an artifact.")
    return text


def parse_parameter(name: str, kind: str, raw: str):
    """`parse` with KFP's wording for an input parameter (used by `portway submit --target kfp`)."""
    return parse(raw, kind, f"input parameter {name}")
