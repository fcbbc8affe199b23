"""KFP's conditions (dsl.If/Elif/Else: CEL in triggerPolicy.condition) as Argo `when` expressions.

The KFP compiler writes CEL over `inputs.parameter_values['<input>']`, optionally cast with int() or
double(), combined with ==, !=, <, >, !, && and ||. Each reference becomes the input's value read
through an Argo variable (never spliced text), typed as the input's KFP type, and the whole condition
is one expression tag, `when: "{{=...}}"`, which Argo evaluates to true or false before its own
govaluate step (docs/variables.md "Expression"; docs/conditionals.md): a runtime value holding a quote
or an operator cannot rewrite it.
"""

from __future__ import annotations

import re

from portway.compile.argo import refs
from portway.compile.argo.ir import UnsupportedFeature

_REFERENCE = re.compile(r"(int|double)\(inputs\.parameter_values\['([^']+)'\]\)|inputs\.parameter_values\['([^']+)'\]")
_ALLOWED = re.compile(r"[\s()!&|=<>+\-*/.,0-9a-zA-Z_]*")


def translate(condition: str, values: dict[str, refs.Ref], task: str) -> str:
    pieces, last = [], 0
    for match in _REFERENCE.finditer(condition):
        pieces.append(_literal_part(condition[last:match.start()], condition, task))
        cast, name = match.group(1), match.group(2) or match.group(3)
        if name not in values:
            raise UnsupportedFeature(f"task {task!r}: its condition reads {name!r}, which the task does not receive.")
        ref = values[name]
        if cast == "int":
            pieces.append(refs.typed_expr(ref.expr, "NUMBER_INTEGER"))
        elif cast == "double":
            pieces.append(refs.typed_expr(ref.expr, "NUMBER_DOUBLE"))
        else:
            pieces.append(refs.typed(ref))
        last = match.end()
    pieces.append(_literal_part(condition[last:], condition, task))
    return "".join(pieces)


def _literal_part(text: str, condition: str, task: str) -> str:
    """Operators and constants between references; string constants are re-quoted for expr-lang."""
    out, position = [], 0
    for match in re.finditer(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", text):
        out.append(_operators(text[position:match.start()], condition, task))
        raw = match.group(1) if match.group(1) is not None else match.group(2)
        out.append(refs.string_literal(raw.encode().decode("unicode_escape")))
        position = match.end()
    out.append(_operators(text[position:], condition, task))
    return "".join(out)


def _operators(text: str, condition: str, task: str) -> str:
    if not _ALLOWED.fullmatch(text) or "inputs." in text or "}}" in text:
        raise UnsupportedFeature(f"task {task!r}: cannot translate the condition {condition!r} to Argo.")
    return text


def when(conditions: list[str]) -> str | None:
    if not conditions:
        return None
    joined = conditions[0] if len(conditions) == 1 else " && ".join(f"({c})" for c in conditions)
    return refs.tag(joined)
