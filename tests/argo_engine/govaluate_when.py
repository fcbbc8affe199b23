"""Argo's `when`: govaluate over the already-substituted text, with every variable made a string.

Argo `workflow/controller/steps.go` shouldExecute: `govaluate.NewEvaluableExpression(when)`, then
each VARIABLE token's kind is changed to STRING ("This allows us to have expressions like:
"foo != bar" without requiring foo and bar to be quoted"), then `Evaluate(nil)`; a non-bool result
is an error ("Expected boolean evaluation for '%s'. Got %v").

Tokenizing follows github.com/Knetic/govaluate parsing.go: a variable is letters, digits, `_`
and `.` (so `my-name` is `my` minus `name`, and a string minus a string is an error); numbers are
float64; `true`/`false` are booleans; `"..."`/`'...'` are strings. Operators and their typing
follow govaluate's evaluationStage.go: `==`/`!=` compare with reflect.DeepEqual (the string "1"
is not the number 1), ordering comparators need two numbers or two strings, `+` concatenates if
either side is a string, `&&`/`||` need booleans, `=~`/`!~` are regular expressions, `in` takes a
parenthesised list.
"""

from __future__ import annotations

import re


class WhenError(Exception):
    pass


_OPS = ["**", "==", "!=", ">=", "<=", "=~", "!~", "&&", "||", "??", ">>", "<<",
        "+", "-", "*", "/", "%", ">", "<", "!", "~", "&", "|", "^", "?", ":", "(", ")", ","]


def _tokenize(text: str) -> list[tuple[str, object]]:
    tokens: list[tuple[str, object]] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch.isdigit():
            match = re.compile(r"0x[0-9a-fA-F]+|[0-9.]+").match(text, pos)
            raw = match.group(0)
            try:
                value = float(int(raw, 16)) if raw.startswith("0x") else float(raw)
            except ValueError as exc:
                raise WhenError(f"Unable to parse numeric value '{raw}' to float64") from exc
            tokens.append(("value", value))
            pos = match.end()
            continue
        if ch in "\"'":
            end = pos + 1
            out = []
            while end < len(text) and text[end] != ch:
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                out.append(text[end])
                end += 1
            if end >= len(text):
                raise WhenError("Unclosed string literal")
            tokens.append(("value", "".join(out)))
            pos = end + 1
            continue
        if ch == "[":
            end = text.find("]", pos)
            if end < 0:
                raise WhenError("Unclosed parameter bracket")
            tokens.append(("value", text[pos + 1:end]))  # an escaped variable, made a string by Argo
            pos = end + 1
            continue
        if ch.isalpha() or ch == "_":
            match = re.compile(r"[\w.]+").match(text, pos)
            word = match.group(0)
            pos = match.end()
            if word in ("true", "false"):
                tokens.append(("value", word == "true"))
            elif word in ("in", "IN"):
                tokens.append(("op", "in"))
            else:
                rest = text[pos:].lstrip()
                if rest.startswith("("):
                    raise WhenError(f"Undefined function {word}")
                tokens.append(("value", word))  # a VARIABLE, which Argo turns into a STRING
            continue
        for op in _OPS:
            if text.startswith(op, pos):
                tokens.append(("op", op))
                pos += len(op)
                break
        else:
            raise WhenError(f"Invalid token: '{ch}'")
    for a, b in zip(tokens, tokens[1:], strict=False):
        if a[0] == "value" and b[0] == "value":
            raise WhenError(f"Cannot transition token types from {_kind(a[1])} [{a[1]}] to {_kind(b[1])} [{b[1]}]")
    return tokens


def _kind(value) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, float):
        return "NUMERIC"
    return "STRING"


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


class _Parser:
    # lowest to highest, as govaluate's stage planner
    LEVELS = [("??",), ("||",), ("&&",), ("==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"),
              ("&", "|", "^"), ("<<", ">>"), ("+", "-"), ("*", "/", "%"), ("**",)]

    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", None)

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def parse(self):
        value = self.ternary()
        if self.peek()[0] != "eof":
            raise WhenError(f"Unexpected token {self.peek()[1]!r}")
        return value

    def ternary(self):
        cond = self.level(0)
        if self.peek() == ("op", "?"):
            self.take()
            yes = self.ternary()
            no = None
            if self.peek() == ("op", ":"):
                self.take()
                no = self.ternary()
            return ("?", cond, yes, no)
        return cond

    def level(self, index):
        if index == len(self.LEVELS):
            return self.prefix()
        left = self.level(index + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.LEVELS[index]:
            op = self.take()[1]
            right = self.level(index + 1)
            left = (op, left, right)
        return left

    def prefix(self):
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("!", "-", "~"):
            self.take()
            return ("prefix" + tok[1], self.prefix())
        if tok == ("op", "("):
            self.take()
            items = [self.ternary()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.ternary())
            if self.take() != ("op", ")"):
                raise WhenError("Unbalanced parenthesis")
            return items[0] if len(items) == 1 else ("list", items)
        if tok[0] == "value":
            self.take()
            return ("lit", tok[1])
        raise WhenError("Unexpected end of expression" if tok[0] == "eof" else f"Unexpected token {tok[1]!r}")


def _number(value, op, role):
    if isinstance(value, float):
        return value
    raise WhenError(f"Value '{_fmt(value)}' cannot be used with the {role} '{op}', it is not a number")


def _eval(node):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "list":
        return [_eval(n) for n in node[1]]
    if kind == "prefix!":
        value = _eval(node[1])
        if not isinstance(value, bool):
            raise WhenError(f"Value '{_fmt(value)}' cannot be used with the prefix '!'")
        return not value
    if kind == "prefix-":
        return -_number(_eval(node[1]), "-", "prefix")
    if kind == "prefix~":
        return float(~int(_number(_eval(node[1]), "~", "prefix")))
    if kind == "?":
        cond = _eval(node[1])
        if not isinstance(cond, bool):
            raise WhenError(f"Value '{_fmt(cond)}' cannot be used with the ternary operator '?', it is not a bool")
        return _eval(node[2]) if cond else (_eval(node[3]) if node[3] is not None else None)
    op, left, right = node
    if op in ("&&", "||"):
        a = _eval(left)
        if not isinstance(a, bool):
            raise WhenError(f"Value '{_fmt(a)}' cannot be used with the logical operator '{op}', it is not a bool")
        if (op == "&&" and not a) or (op == "||" and a):
            return a
        b = _eval(right)
        if not isinstance(b, bool):
            raise WhenError(f"Value '{_fmt(b)}' cannot be used with the logical operator '{op}', it is not a bool")
        return b
    a, b = _eval(left), _eval(right)
    if op == "??":
        return b if a is None else a
    if op == "==":
        return type(a) is type(b) and a == b
    if op == "!=":
        return not (type(a) is type(b) and a == b)
    if op in (">", ">=", "<", "<="):
        if not ((isinstance(a, float) and isinstance(b, float)) or (isinstance(a, str) and isinstance(b, str))):
            bad = a if not isinstance(a, (float, str)) or isinstance(a, bool) else b
            raise WhenError(f"Value '{_fmt(bad)}' cannot be used with the comparator '{op}', it is not a number")
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]
    if op in ("=~", "!~"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise WhenError(f"Value cannot be used with the comparator '{op}', it is not a string")
        found = re.search(b, a) is not None
        return found if op == "=~" else not found
    if op == "in":
        if not isinstance(b, list):
            b = [b]
        return any(type(a) is type(x) and a == x for x in b)
    if op == "+":
        if isinstance(a, str) or isinstance(b, str):
            return _fmt(a) + _fmt(b)
        return _number(a, op, "modifier") + _number(b, op, "modifier")
    x, y = _number(a, op, "modifier"), _number(b, op, "modifier")
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return x / y
    if op == "%":
        return float(int(x) % int(y))
    if op == "**":
        return x ** y
    ints = int(x), int(y)
    return float({"&": ints[0] & ints[1], "|": ints[0] | ints[1], "^": ints[0] ^ ints[1],
                  "<<": ints[0] << ints[1], ">>": ints[0] >> ints[1]}[op])


def should_execute(when: str) -> bool:
    """steps.go shouldExecute: '' runs; otherwise the govaluate result must be a bool."""
    if when == "":
        return True
    try:
        result = _eval(_Parser(_tokenize(when)).parse())
    except WhenError as exc:
        hint = " (hint: try wrapping the affected expression in quotes (\"))" if "Invalid token" in str(exc) else ""
        raise WhenError(f"Invalid 'when' expression '{when}': {exc}{hint}") from None
    if not isinstance(result, bool):
        raise WhenError(f"Expected boolean evaluation for '{when}'. Got {_fmt(result)}")
    return result
