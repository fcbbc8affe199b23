"""The functions Argo adds to the expression environment, and its JSONPath.

Source: argo-workflows `util/expr/env/env.go` (GetFuncMap: `asInt`, `asFloat`, `string`,
`jsonpath`, `toJson`, `sprig`) and `util/expr/argoexpr`; `jsonpath` is
`github.com/oliveagle/jsonpath` JsonPathLookup over the JSON-decoded first argument.
Sprig: https://masterminds.github.io/sprig/ (only the functions listed here; any other raises).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from .expressions import ExpressionError, go_format, to_json


def as_int(value):
    """env.go asInt: strconv.ParseInt(s, 10, 64) for strings, int64 conversion for numbers."""
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError as exc:
            raise ExpressionError(f"asInt: cannot parse {value!r} as int") from exc
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    raise ExpressionError(f"asInt: cannot convert {value!r}")


def as_float(value):
    """env.go asFloat: strconv.ParseFloat(s, 64) for strings."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as exc:
            raise ExpressionError(f"asFloat: cannot parse {value!r} as float") from exc
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ExpressionError(f"asFloat: cannot convert {value!r}")


def to_string(value) -> str:
    return value if isinstance(value, str) else go_format(value)


# -- JSONPath (oliveagle/jsonpath semantics: a list only for *, slices and filters) --------------------------------
_STEP = re.compile(r"""\.\.|\.(?P<key>[A-Za-z0-9_\-$]+|\*)|\[(?P<br>[^\]]*)\]""")


def jsonpath(document, path: str):
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise ExpressionError(f"jsonpath: the first argument is not JSON: {exc}") from exc
    if not path.startswith("$"):
        raise ExpressionError(f"jsonpath: path must start with $: {path!r}")
    current, multi, pos = [document], False, 1
    while pos < len(path):
        match = _STEP.match(path, pos)
        if not match:
            raise ExpressionError(f"jsonpath: cannot parse {path[pos:]!r} in {path!r}")
        pos = match.end()
        if match.group(0) == "..":
            raise ExpressionError(f"jsonpath: recursive descent is not supported: {path!r}")
        key, bracket = match.group("key"), match.group("br")
        nxt = []
        if key is not None:
            if key == "*":
                multi = True
                for item in current:
                    nxt.extend(item.values() if isinstance(item, dict) else item)
            else:
                for item in current:
                    if not isinstance(item, dict) or key not in item:
                        raise ExpressionError(f"jsonpath: key error: {key} not found in object")
                    nxt.append(item[key])
        else:
            bracket = bracket.strip()
            for item in current:
                if bracket == "*":
                    multi = True
                    nxt.extend(item if isinstance(item, list) else list(item.values()))
                elif bracket.startswith("?(") and bracket.endswith(")"):
                    multi = True
                    nxt.extend(x for x in item if _filter(x, bracket[2:-1]))
                elif ":" in bracket:
                    multi = True
                    start, _, end = bracket.partition(":")
                    nxt.extend(item[int(start) if start else None:int(end) if end else None])
                elif bracket[:1] in "'\"":
                    nxt.append(item[bracket[1:-1]])
                else:
                    index = int(bracket)
                    if not isinstance(item, list) or not -len(item) <= index < len(item):
                        raise ExpressionError(f"jsonpath: index out of range: {index}")
                    nxt.append(item[index])
        current = nxt
    return current if multi else current[0]


_COND = re.compile(r"@\.(?P<key>[\w\-]+)\s*(?P<op>==|!=|>=|<=|>|<|=~)\s*(?P<val>.+)")


def _filter(item, condition: str) -> bool:
    results = []
    for part in re.split(r"\s*&&\s*", condition):
        match = _COND.fullmatch(part.strip())
        if not match:
            raise ExpressionError(f"jsonpath: unsupported filter {condition!r}")
        left = item.get(match["key"]) if isinstance(item, dict) else None
        raw = match["val"].strip()
        right = raw[1:-1] if raw[:1] in "'\"" else float(raw)
        if left is None:
            results.append(False)
            continue
        if isinstance(right, float):
            left = float(left)
        op = match["op"]
        results.append({"==": left == right, "!=": left != right, ">": left > right, "<": left < right,
                        ">=": left >= right, "<=": left <= right}.get(op, False) if op != "=~"
                       else re.search(right, str(left)) is not None)
    return all(results)


# -- Sprig (the generic functions Argo exposes as `sprig.*`) -------------------------------------------------------
def _go_time_format(layout: str, when: datetime) -> str:
    mapping = [("2006", "%Y"), ("01", "%m"), ("02", "%d"), ("15", "%H"), ("04", "%M"), ("05", "%S"), ("Jan", "%b"),
               ("Mon", "%a"), ("MST", "%Z"), ("06", "%y")]
    out = layout
    for go, py in mapping:
        out = out.replace(go, py)
    return when.strftime(out)


def _sprig_date(layout: str, value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return _go_time_format(layout, value)


SPRIG = {
    "trim": lambda s: s.strip(),
    "upper": lambda s: s.upper(),
    "lower": lambda s: s.lower(),
    "title": lambda s: s.title(),
    "replace": lambda old, new, s: s.replace(old, new),
    "contains": lambda sub, s: sub in s,
    "hasPrefix": lambda p, s: s.startswith(p),
    "hasSuffix": lambda p, s: s.endswith(p),
    "trimPrefix": lambda p, s: s[len(p):] if s.startswith(p) else s,
    "trimSuffix": lambda p, s: s[:-len(p)] if p and s.endswith(p) else s,
    "trunc": lambda n, s: s[:n] if n >= 0 else s[n:],
    "repeat": lambda n, s: s * n,
    "quote": lambda *a: " ".join(json.dumps(to_string(x)) for x in a),
    "squote": lambda *a: " ".join(f"'{to_string(x)}'" for x in a),
    "sha256sum": lambda s: hashlib.sha256(s.encode()).hexdigest(),
    "sha1sum": lambda s: hashlib.sha1(s.encode()).hexdigest(),  # noqa: S324 - Sprig's documented digest
    "b64enc": lambda s: __import__("base64").b64encode(s.encode()).decode(),
    "b64dec": lambda s: __import__("base64").b64decode(s).decode(),
    "toString": to_string,
    "toJson": to_json,
    "fromJson": json.loads,
    "atoi": lambda s: int(s) if re.fullmatch(r"-?\d+", s.strip()) else 0,
    "int": lambda v: int(float(v)) if isinstance(v, str) else int(v),
    "int64": lambda v: int(float(v)) if isinstance(v, str) else int(v),
    "float64": float,
    "add": lambda *a: sum(int(x) for x in a),
    "add1": lambda a: int(a) + 1,
    "sub": lambda a, b: int(a) - int(b),
    "mul": lambda *a: __import__("math").prod(int(x) for x in a),
    "div": lambda a, b: int(int(a) / int(b)),
    "mod": lambda a, b: int(a) % int(b),
    "max": lambda *a: max(int(x) for x in a),
    "min": lambda *a: min(int(x) for x in a),
    "list": lambda *a: list(a),
    "join": lambda sep, items: sep.join(to_string(x) for x in items),
    "split": lambda sep, s: {f"_{i}": part for i, part in enumerate(s.split(sep))},
    "splitList": lambda sep, s: s.split(sep),
    "first": lambda v: v[0] if v else None,
    "last": lambda v: v[-1] if v else None,
    "default": lambda default, *v: v[0] if v and v[0] not in (None, "", [], {}, 0, False) else default,
    "empty": lambda v: v in (None, "", [], {}, 0, False),
    "coalesce": lambda *a: next((x for x in a if x not in (None, "", [], {}, 0, False)), None),
    "ternary": lambda yes, no, cond: yes if cond else no,
    "now": lambda: datetime.now(UTC),
    "date": _sprig_date,
    "dict": lambda *a: {a[i]: a[i + 1] for i in range(0, len(a), 2)},
    "regexMatch": lambda regex, s: re.search(regex, s) is not None,
    "regexFind": lambda regex, s: (m.group(0) if (m := re.search(regex, s)) else ""),
    "regexReplaceAll": lambda regex, s, repl: re.sub(regex, repl.replace("$", "\\"), s),
    "nospace": lambda s: re.sub(r"\s", "", s),
    "indent": lambda n, s: "\n".join(" " * n + line for line in s.split("\n")),
    "len": len,
}


def argo_functions() -> dict:
    """env.go GetFuncMap's additions to the expanded replace map."""
    return {
        "asInt": as_int,
        "asFloat": as_float,
        "string": to_string,
        "jsonpath": jsonpath,
        "toJson": to_json,
        "sprig": dict(SPRIG),
    }
