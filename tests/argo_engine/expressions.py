"""Argo's `{{=...}}` expression language: expr-lang (github.com/expr-lang/expr) with Argo's environment.

Argo evaluates expression tags with expr-lang over an environment built by
`util/expr/env/env.go` GetFuncMap: the flat replace map expanded into nested maps
(`util/expand`), plus `asInt`, `asFloat`, `string`, `jsonpath`, `toJson`, and `sprig` (the
Sprig generic function map). Results are written with Go's `fmt.Sprintf("%v", result)`
(`util/template/expression_template.go` expressionReplace).

This module implements the subset of expr-lang used by Argo workflows (documented at
https://expr-lang.org/docs/language-definition): literals, member access (`.`, `?.`, `[]`),
slices, arithmetic, comparison, `and/or/not` (`&&`, `||`, `!`), `in`, `contains`,
`startsWith`, `endsWith`, `matches`, ternary `?:`, nil-coalescing `??`, pipes `|`, ranges
`..`, list and map literals, closures with `#` for `map/filter/all/any/none/one/count`, and the
builtins Argo workflows use. Anything else is a clear error, never a silent wrong value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any


class ExpressionError(Exception):
    pass


# -- Go formatting -------------------------------------------------------------------------------------------------
def go_format(value: Any) -> str:
    """Go's `fmt.Sprintf("%v", value)` for the JSON-like values an expression yields."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def go_float(value: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), as %v prints a float64 (exponent when < -4 or >= 21)."""
    from decimal import Decimal

    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    _, digits, exp = Decimal(repr(value)).normalize().as_tuple()
    sci = len(digits) + exp - 1
    sign = "-" if value < 0 else ""
    text = "".join(map(str, digits))
    if sci < -4 or sci >= 21:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{sign}{mantissa}e{'+' if sci >= 0 else '-'}{abs(sci):02d}"
    plain = format(Decimal(repr(abs(value))).normalize(), "f")
    return sign + (plain.rstrip("0").rstrip(".") if "." in plain else plain)


# -- tokenizer -----------------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>0[xX][0-9a-fA-F_]+|\d[\d_]*\.\d+(?:[eE][+-]?\d+)?|\d[\d_]*(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<op>\?\?|\?\.|\.\.|==|!=|>=|<=|&&|\|\||\*\*|[-+*/%<>!?:.,()\[\]{}|^\#])
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
""", re.X)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "b": "\b", "f": "\f",
            "v": "\v", "a": "\a"}


def _unquote(text: str) -> str:
    if text[0] == "`":
        return text[1:-1]
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u":
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            if nxt == "x":
                out.append(chr(int(body[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ExpressionError(f"unexpected character {text[pos]!r} in expression {text!r}")
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "ws":
            continue
        if kind == "num":
            clean = value.replace("_", "")
            value = int(clean, 16) if clean[:2].lower() == "0x" else (
                float(clean) if any(c in clean for c in ".eE") else int(clean))
        elif kind == "str":
            value = _unquote(value)
        elif kind == "name" and value in ("and", "or", "not", "in", "matches", "contains", "startsWith",
                                          "endsWith", "let"):
            kind = "op"
        tokens.append((kind, value))
    tokens.append(("eof", None))
    return tokens


# -- parser (precedence climbing, as expr-lang's parser/operator tables) -------------------------------------------
_BINARY = {  # operator -> (precedence, right associative)
    "??": (1, False), "or": (2, False), "||": (2, False), "and": (3, False), "&&": (3, False),
    "==": (4, False), "!=": (4, False), "<": (4, False), ">": (4, False), "<=": (4, False), ">=": (4, False),
    "in": (4, False), "matches": (4, False), "contains": (4, False), "startsWith": (4, False),
    "endsWith": (4, False), "..": (5, False), "+": (6, False), "-": (6, False), "*": (7, False),
    "/": (7, False), "%": (7, False), "**": (8, True), "^": (8, True),
}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0):
        return self.tokens[self.pos + offset]

    def next(self):
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, value: str):
        tok = self.next()
        if tok[1] != value or tok[0] not in ("op",):
            raise ExpressionError(f"expected {value!r} but found {tok[1]!r} in expression {self.text!r}")

    def parse(self):
        node = self.expression()
        if self.peek()[0] != "eof":
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in expression {self.text!r}")
        return node

    def expression(self):
        if self.peek() == ("op", "let"):
            raise ExpressionError(f"`let` is not supported by this interpreter: {self.text!r}")
        return self.pipe()

    def pipe(self):
        node = self.ternary()
        while self.peek() == ("op", "|"):
            self.next()
            name_tok = self.next()
            if name_tok[0] != "name":
                raise ExpressionError(f"expected a function after '|' in {self.text!r}")
            args = self.call_args() if self.peek() == ("op", "(") else []
            node = ("call", name_tok[1], [node, *args])
        return node

    def ternary(self):
        cond = self.binary(1)
        if self.peek() == ("op", "?"):
            self.next()
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return ("if", cond, yes, no)
        return cond

    def binary(self, min_prec: int):
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind != "op":
                break
            negate = False
            if op == "not" and self.peek(1) in (("op", "in"), ("op", "matches"), ("op", "contains"),
                                                 ("op", "startsWith"), ("op", "endsWith")):
                negate = True
                op = self.peek(1)[1]
            if op not in _BINARY:
                break
            prec, right_assoc = _BINARY[op]
            if prec < min_prec:
                break
            self.next()
            if negate:
                self.next()
            right = self.binary(prec if right_assoc else prec + 1)
            left = ("bin", op, left, right)
            if negate:
                left = ("not", left)
        return left

    def unary(self):
        kind, op = self.peek()
        if kind == "op" and op in ("!", "not"):
            self.next()
            return ("not", self.unary())
        if kind == "op" and op == "-":
            self.next()
            return ("neg", self.unary())
        if kind == "op" and op == "+":
            self.next()
            return self.unary()
        return self.postfix(self.primary())

    def call_args(self):
        self.expect("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.closure_or_expr())
            if self.peek() == ("op", ","):
                self.next()
        self.expect(")")
        return args

    def closure_or_expr(self):
        if self.peek() == ("op", "{") and self._looks_like_closure():
            self.next()
            body = self.expression()
            self.expect("}")
            return ("closure", body)
        return self.expression()

    def _looks_like_closure(self) -> bool:
        # `{...}` is a map literal when it starts with `key:`; otherwise a closure body
        kind, _ = self.peek(1)
        return not (kind in ("name", "str", "num") and self.peek(2) == ("op", ":"))

    def primary(self):
        kind, value = self.next()
        if kind == "num" or kind == "str":
            return ("lit", value)
        if kind == "name":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value in ("nil", "null"):
                return ("lit", None)
            if self.peek() == ("op", "("):
                return ("call", value, self.call_args())
            return ("var", value)
        if kind == "op" and value == "#":
            if self.peek()[0] == "name":
                return ("member", ("pointer",), ("lit", self.next()[1]), False)
            return ("pointer",)
        if kind == "op" and value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if kind == "op" and value == "[":
            items = []
            while self.peek() != ("op", "]"):
                items.append(self.expression())
                if self.peek() == ("op", ","):
                    self.next()
            self.expect("]")
            return ("list", items)
        if kind == "op" and value == "{":
            pairs = []
            while self.peek() != ("op", "}"):
                key_kind, key = self.next()
                key_node = ("lit", key) if key_kind in ("name", "str", "num") else None
                if key_node is None:
                    raise ExpressionError(f"bad map key {key!r} in {self.text!r}")
                self.expect(":")
                pairs.append((key_node, self.expression()))
                if self.peek() == ("op", ","):
                    self.next()
            self.expect("}")
            return ("map", pairs)
        if kind == "op" and value == ".":
            # `.field` inside a closure is a member of the pointer
            name = self.next()
            return ("member", ("pointer",), ("lit", name[1]), False)
        raise ExpressionError(f"unexpected {value!r} in expression {self.text!r}")

    def postfix(self, node):
        while True:
            kind, op = self.peek()
            if kind == "op" and op in (".", "?."):
                self.next()
                name = self.next()
                if name[0] not in ("name", "op"):
                    raise ExpressionError(f"expected a field name after {op!r} in {self.text!r}")
                if self.peek() == ("op", "("):
                    node = ("method", node, name[1], self.call_args())
                else:
                    node = ("member", node, ("lit", name[1]), op == "?.")
            elif kind == "op" and op == "[":
                self.next()
                if self.peek() == ("op", ":"):
                    self.next()
                    end = None if self.peek() == ("op", "]") else self.expression()
                    self.expect("]")
                    node = ("slice", node, None, end)
                    continue
                index = self.expression()
                if self.peek() == ("op", ":"):
                    self.next()
                    end = None if self.peek() == ("op", "]") else self.expression()
                    self.expect("]")
                    node = ("slice", node, index, end)
                    continue
                self.expect("]")
                node = ("member", node, index, False)
            else:
                return node


_CACHE: dict[str, Any] = {}


def parse(text: str):
    if text not in _CACHE:
        _CACHE[text] = _Parser(text).parse()
    return _CACHE[text]


# -- evaluation ----------------------------------------------------------------------------------------------------
class _Missing:
    """A field that does not exist: expr-lang yields nil for a missing map key."""


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _to_bool(v, text: str) -> bool:
    if isinstance(v, bool):
        return v
    raise ExpressionError(f"expected bool, got {go_format(v)!r} ({type(v).__name__}) in {text!r}")


def _compare(op: str, a, b, text: str):
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    raise ExpressionError(f"invalid operation: {go_format(a)!r} {op} {go_format(b)!r} (mismatched types) in {text!r}")


def _equal(a, b) -> bool:
    if _is_number(a) and _is_number(b):
        return a == b
    if type(a) is not type(b) and not (a is None or b is None):
        return False
    return a == b


def _arith(op: str, a, b, text: str):
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if op == "+" and isinstance(a, list) and isinstance(b, list):
        return a + b
    if not (_is_number(a) and _is_number(b)):
        raise ExpressionError(f"invalid operation: {go_format(a)!r} {op} {go_format(b)!r} (mismatched types) in {text!r}")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b  # expr-lang's `/` always yields float64
    if op == "%":
        if not (isinstance(a, int) and isinstance(b, int)):
            raise ExpressionError(f"invalid operation: % on non-integers in {text!r}")
        return int(math.fmod(a, b))
    return float(a) ** float(b)


class Evaluator:
    def __init__(self, env: dict, text: str):
        self.env = env
        self.text = text
        self.pointer: list = []

    def eval(self, node):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "var":
            if node[1] in self.env:
                return self.env[node[1]]
            raise ExpressionError(f"unknown name {node[1]} (in {self.text!r})")
        if kind == "pointer":
            if not self.pointer:
                raise ExpressionError(f"# used outside a closure in {self.text!r}")
            return self.pointer[-1]
        if kind == "list":
            return [self.eval(item) for item in node[1]]
        if kind == "map":
            return {self.eval(k): self.eval(v) for k, v in node[1]}
        if kind == "not":
            return not _to_bool(self.eval(node[1]), self.text)
        if kind == "neg":
            value = self.eval(node[1])
            if not _is_number(value):
                raise ExpressionError(f"invalid operation: -{go_format(value)!r} in {self.text!r}")
            return -value
        if kind == "if":
            return self.eval(node[2]) if _to_bool(self.eval(node[1]), self.text) else self.eval(node[3])
        if kind == "member":
            return self.member(node)
        if kind == "slice":
            target = self.eval(node[1])
            start = self.eval(node[2]) if node[2] is not None else None
            end = self.eval(node[3]) if node[3] is not None else None
            return target[start:end]
        if kind == "bin":
            return self.binary(node)
        if kind == "call":
            return self.call(node[1], node[2])
        if kind == "method":
            target = self.eval(node[1])
            if isinstance(target, dict) and callable(target.get(node[2])):
                return target[node[2]](*[self.eval(a) for a in node[3]])
            raise ExpressionError(f"{node[2]} is not a method of {go_format(target)!r} in {self.text!r}")
        if kind == "closure":
            raise ExpressionError(f"a closure is only valid as a builtin's predicate in {self.text!r}")
        raise ExpressionError(f"cannot evaluate {kind} in {self.text!r}")

    def member(self, node):
        _, target_node, key_node, optional = node
        target = self.eval(target_node)
        key = self.eval(key_node)
        if target is None:
            if optional:
                return None
            raise ExpressionError(f"cannot fetch {key} from nil in {self.text!r}")
        if isinstance(target, dict):
            return target.get(key)
        if isinstance(target, (list, str)):
            if not isinstance(key, int) or isinstance(key, bool):
                raise ExpressionError(f"cannot index {type(target).__name__} with {key!r} in {self.text!r}")
            if key < 0:
                key += len(target)
            if not 0 <= key < len(target):
                raise ExpressionError(f"index out of range: {key} (array length is {len(target)}) in {self.text!r}")
            return target[key]
        raise ExpressionError(f"cannot fetch {key} from {type(target).__name__} in {self.text!r}")

    def binary(self, node):
        _, op, left_node, right_node = node
        if op in ("||", "or"):
            return _to_bool(self.eval(left_node), self.text) or _to_bool(self.eval(right_node), self.text)
        if op in ("&&", "and"):
            return _to_bool(self.eval(left_node), self.text) and _to_bool(self.eval(right_node), self.text)
        if op == "??":
            try:
                left = self.eval(left_node)
            except ExpressionError:
                left = None
            return self.eval(right_node) if left is None else left
        a, b = self.eval(left_node), self.eval(right_node)
        if op in ("==", "!=", "<", ">", "<=", ">="):
            return _compare(op, a, b, self.text)
        if op == "in":
            if isinstance(b, dict):
                return a in b
            if isinstance(b, list):
                return any(_equal(a, x) for x in b)
            raise ExpressionError(f"invalid operation: in {type(b).__name__} in {self.text!r}")
        if op == "matches":
            return re.search(b, a) is not None
        if op == "contains":
            return b in a
        if op == "startsWith":
            return a.startswith(b)
        if op == "endsWith":
            return a.endswith(b)
        if op == "..":
            return list(range(a, b + 1))
        return _arith(op, a, b, self.text)

    def call(self, name: str, arg_nodes: list):
        if name in _CLOSURE_BUILTINS:
            items = self.eval(arg_nodes[0])
            if items is None:
                items = []
            predicate = arg_nodes[1] if len(arg_nodes) > 1 else None
            body = predicate[1] if predicate and predicate[0] == "closure" else predicate
            results = []
            for item in items:
                self.pointer.append(item)
                try:
                    results.append(self.eval(body) if body is not None else item)
                finally:
                    self.pointer.pop()
            return _CLOSURE_BUILTINS[name](items, results, self.text)
        args = [self.eval(a) for a in arg_nodes]
        func = self.env.get(name) if callable(self.env.get(name)) else BUILTINS.get(name)
        if func is None:
            raise ExpressionError(f"unknown function {name}() in {self.text!r}")
        return func(*args)


_CLOSURE_BUILTINS = {
    "map": lambda items, results, text: results,
    "filter": lambda items, results, text: [i for i, r in zip(items, results, strict=True) if r is True],
    "all": lambda items, results, text: all(r is True for r in results),
    "any": lambda items, results, text: any(r is True for r in results),
    "none": lambda items, results, text: not any(r is True for r in results),
    "one": lambda items, results, text: sum(1 for r in results if r is True) == 1,
    "count": lambda items, results, text: sum(1 for r in results if r is True),
    "find": lambda items, results, text: next((i for i, r in zip(items, results, strict=True) if r is True), None),
}


def _to_int(value):
    if isinstance(value, bool):
        raise ExpressionError(f"invalid operation: int({value})")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return int(float(value))
    return int(value)


def _to_float(value):
    if isinstance(value, str):
        return float(value.strip())
    return float(value)


def to_json(value) -> str:
    """Go's json.Marshal (compact, sorted map keys, HTML characters escaped)."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _from_json(text):
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"fromJSON: {exc}") from exc


BUILTINS: dict[str, Any] = {
    "len": lambda v: len(v),
    "int": _to_int,
    "float": _to_float,
    "string": lambda v: v if isinstance(v, str) else go_format(v),
    "toJSON": lambda v: json.dumps(v, indent=2, sort_keys=True, ensure_ascii=False),
    "fromJSON": _from_json,
    "toBase64": lambda s: __import__("base64").b64encode(s.encode()).decode(),
    "fromBase64": lambda s: __import__("base64").b64decode(s).decode(),
    "upper": lambda s: s.upper(),
    "lower": lambda s: s.lower(),
    "trim": lambda s, chars=None: s.strip(chars),
    "trimPrefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "trimSuffix": lambda s, p: s[:-len(p)] if p and s.endswith(p) else s,
    "split": lambda s, sep, n=-1: s.split(sep) if n < 0 else s.split(sep, n - 1),
    "join": lambda items, sep="": sep.join(items),
    "replace": lambda s, old, new: s.replace(old, new),
    "repeat": lambda s, n: s * n,
    "indexOf": lambda s, sub: s.find(sub),
    "hasPrefix": lambda s, p: s.startswith(p),
    "hasSuffix": lambda s, p: s.endswith(p),
    "keys": lambda m: list(m.keys()),
    "values": lambda m: list(m.values()),
    "first": lambda v: v[0] if v else None,
    "last": lambda v: v[-1] if v else None,
    "get": lambda v, k: (v.get(k) if isinstance(v, dict) else (v[k] if isinstance(v, list) and -len(v) <= k < len(v)
                                                                else None)),
    "concat": lambda *lists: [x for lst in lists for x in lst],
    "abs": abs,
    "max": lambda *a: max(a[0] if len(a) == 1 else a),
    "min": lambda *a: min(a[0] if len(a) == 1 else a),
    "sum": lambda v: sum(v),
    "mean": lambda v: sum(v) / len(v),
    "ceil": lambda v: float(math.ceil(v)),
    "floor": lambda v: float(math.floor(v)),
    "round": lambda v: float(round(v)),
    "sort": lambda v, order="asc": sorted(v, reverse=order == "desc"),
    "reverse": lambda v: list(reversed(v)),
    "uniq": lambda v: list(dict.fromkeys(v)),
    "flatten": lambda v: [x for item in v for x in (item if isinstance(item, list) else [item])],
    "type": lambda v: {bool: "bool", int: "int", float: "float", str: "string", list: "array", dict: "map",
                       type(None): "nil"}.get(type(v), "unknown"),
}


def evaluate(text: str, env: dict):
    """Evaluate an expr-lang expression; raises ExpressionError with the expression in the message."""
    return Evaluator(env, text).eval(parse(text))
