"""`{{...}}` tags: simple tags and `{{=expression}}` tags, replaced as Argo does.

Argo `util/template/template.go` Replace: a tag starting with `=` is an expression
(expression_template.go), any other is a simple tag (simple_template.go) looked up by its
trimmed text in the replace map. Argo replaces inside the JSON text of the template, so a
replacement is JSON-escaped there; replacing inside each decoded string, as here, gives the same
document. With allowUnresolved an unknown simple tag, or an expression that fails to evaluate or
yields nil, is left as written; otherwise it is an error ("failed to resolve {{tag}}").
An expression's result is printed with Go's `%v`.
"""

from __future__ import annotations

import re
from typing import Any

from .expressions import ExpressionError, evaluate, go_format
from .functions import argo_functions

TAG = re.compile(r"\{\{(.*?)\}\}", re.S)


class UnresolvedError(Exception):
    pass


def remove_conflicts(flat: dict) -> dict:
    """env.go removeConflicts: a key is dropped when another key is its child (`a` vs `a.b`)."""
    keys = sorted(flat)
    out = dict(flat)
    for key, nxt in zip(keys, keys[1:], strict=False):
        if nxt.startswith(key + "."):
            out.pop(key, None)
    return out


def expand(flat: dict) -> dict:
    """util/expand Expand: {"a.b": v} -> {"a": {"b": v}}."""
    tree: dict = {}
    for key, value in remove_conflicts(flat).items():
        parts = key.split(".")
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return tree


class Scope:
    """A replace map: string values for simple tags; `raw` values override them in expressions."""

    def __init__(self, values: dict[str, str] | None = None, raw: dict[str, Any] | None = None):
        self.values: dict[str, str] = dict(values or {})
        self.raw: dict[str, Any] = dict(raw or {})
        # outputs of skipped/omitted nodes that declare no default: referencing one is an error
        self.absent: set[str] = set()
        self.artifacts: dict[str, dict] = {}

    def merged(self, other: Scope) -> Scope:
        out = Scope({**self.values, **other.values}, {**self.raw, **other.raw})
        out.absent = (self.absent | other.absent) - set(other.values)
        out.artifacts = {**self.artifacts, **other.artifacts}
        return out

    def set(self, key: str, value: str, raw: Any = None) -> None:
        self.values[key] = value
        if raw is not None:
            self.raw[key] = raw

    def expression_env(self) -> dict:
        env = expand({**self.values, **self.raw})
        env.update(argo_functions())
        return env


def replace(text: str, scope: Scope, allow_unresolved: bool) -> str:
    if "{{" not in text:
        return text
    env = None

    def one(match: re.Match) -> str:
        nonlocal env
        tag = match.group(1)
        if tag.startswith("="):
            if env is None:
                env = scope.expression_env()
            try:
                result = evaluate(tag[1:], env)
            except (ExpressionError, TypeError, KeyError, ValueError, AttributeError, ZeroDivisionError) as exc:
                if allow_unresolved:
                    return match.group(0)
                raise UnresolvedError(f"failed to evaluate expression: {exc}") from None
            if result is None:
                if allow_unresolved:
                    return match.group(0)
                raise UnresolvedError(f"failed to evaluate expression {tag[1:]!r}")
            return go_format(result)
        key = tag.strip()
        if key in scope.absent:
            raise UnresolvedError(f"{{{{{key}}}}} refers to an absent optional output (its node was skipped or "
                                  "omitted and declares no valueFrom.default)")
        if key in scope.values:
            return scope.values[key]
        if allow_unresolved:
            return match.group(0)
        raise UnresolvedError(f"failed to resolve {{{{{tag}}}}}")

    return TAG.sub(one, text)


def substitute(obj: Any, scope: Scope, allow_unresolved: bool) -> Any:
    """Replace tags in every string (keys too) of a JSON-like structure."""
    if isinstance(obj, str):
        return replace(obj, scope, allow_unresolved)
    if isinstance(obj, list):
        return [substitute(item, scope, allow_unresolved) for item in obj]
    if isinstance(obj, dict):
        return {replace(k, scope, allow_unresolved) if isinstance(k, str) else k:
                substitute(v, scope, allow_unresolved) for k, v in obj.items()}
    return obj


def tags_in(obj: Any) -> list[str]:
    """Every tag text in a structure (for validation)."""
    if isinstance(obj, str):
        return [m.group(1) for m in TAG.finditer(obj)]
    if isinstance(obj, list):
        return [t for item in obj for t in tags_in(item)]
    if isinstance(obj, dict):
        return [t for k, v in obj.items() for t in tags_in(k) + tags_in(v)]
    return []
