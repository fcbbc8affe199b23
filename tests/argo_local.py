"""A small local interpreter of compiled Argo Workflows (test infrastructure).

It does what the Argo controller does with the parts of the spec Portway emits, so a test
can run the *compiled* workflow on this machine and see the wiring the controller will see:

- walks each DAG in dependency order (`depends` with `&&`), expanding `withItems`/`withParam`;
- substitutes `{{workflow.*}}`, `{{inputs.parameters.*}}`, `{{tasks.X.outputs.parameters.Y}}`,
  `{{item}}`/`{{item.key}}`, `{{pod.name}}`, and evaluates `{{=expression}}` tags with a subset
  of Argo's expression language (member access, `?.`, `??`, `==`, `!=`, `&&`, `||`, `!`, list
  literals, `sprig.sha256sum`, `toJson`);
- evaluates `when` like Argo (govaluate after substitution: bare words are strings);
- runs each script/container template's command + args as a local process (the image's
  `python` is this interpreter's), appending the script's path as Argo does, and reads output
  parameters from `valueFrom.path` (paths under /tmp/outputs are remapped to a temp directory
  through PORTWAY_OUTPUTS_DIR, which the launcher honours);
- memoizes like Argo's ConfigMap cache (key → outputs; the interpreter object is the cache);
- honours `retryStrategy.limit` (backoff durations are not waited for);
- runs tasks that are ready together, and loop iterations, on a few threads.

Unresolved variables, unknown templates and missing inputs are errors, as in Argo.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUTPUTS_DIR = "/tmp/outputs"
_TAG = re.compile(r"\{\{(=?)(.*?)\}\}", re.S)


class WorkflowError(Exception):
    pass


@dataclass
class Node:
    name: str
    template: str
    phase: str  # Succeeded | Failed | Skipped
    outputs: dict = field(default_factory=dict)
    memoized: bool = False
    memo_key: str | None = None
    attempts: int = 0
    log: str = ""
    inputs: dict = field(default_factory=dict)


# -- expressions -------------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|"
                    r"(?P<op>\?\?|\?\.|==|!=|>=|<=|&&|\|\||[!<>\[\]().,?:])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise WorkflowError(f"cannot parse expression at {text[pos:pos + 30]!r} in {text!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def expand(flat: dict) -> dict:
    """Argo's expand.Expand: {"a.b.c": v} -> {"a": {"b": {"c": v}}}."""
    tree: dict = {}
    for key, value in flat.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return tree


def _to_json(value) -> str:
    return json.dumps(value, separators=(",", ":"))


FUNCTIONS = {"toJson": _to_json, "sprig.sha256sum": lambda s: hashlib.sha256(str(s).encode()).hexdigest()}


class _Parser:
    """expr-lang subset (Argo `{{=...}}` and valueFrom.expression), or govaluate (`when`)."""

    def __init__(self, text: str, env: dict, govaluate: bool = False):
        self.tokens, self.pos, self.env, self.govaluate = _tokens(text), 0, env, govaluate

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value=None):
        token = self.peek()
        if value is not None and token[1] != value:
            raise WorkflowError(f"expected {value!r}, found {token[1]!r}")
        self.pos += 1
        return token

    def parse(self):
        value = self.coalesce()
        if self.pos != len(self.tokens):
            raise WorkflowError(f"unexpected {self.peek()[1]!r}")
        return value

    def chain(self, op: str, operand, combine):
        """operand (op operand)*, folded left with combine (both sides evaluated, as Argo's are)."""
        value = operand()
        while self.peek()[1] == op:
            self.take()
            value = combine(value, operand())
        return value

    def coalesce(self):
        return self.chain("??", self.ternary, lambda a, b: b if a is None else a)

    def ternary(self):
        condition = self.or_()
        if self.peek()[1] == "?":
            self.take()
            yes = self.coalesce()
            self.take(":")
            no = self.coalesce()
            return yes if condition else no
        return condition

    def or_(self):
        return self.chain("||", self.and_, lambda a, b: bool(a) or bool(b))

    def and_(self):
        return self.chain("&&", self.comparison, lambda a, b: bool(a) and bool(b))

    def comparison(self):
        left = self.unary()
        op = self.peek()[1]
        if op in ("==", "!=", "<", ">", "<=", ">="):
            self.take()
            right = self.unary()
            if op in ("==", "!="):
                return (left == right) == (op == "==")
            left, right = float(left), float(right)
            return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
        return left

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return not self.unary()
        return self.postfix()

    def postfix(self):
        value, name = self.primary()
        while True:
            op = self.peek()[1]
            if op in (".", "?."):
                self.take()
                member = self.take()[1]
                if name in ("sprig",) and value is None:
                    name = f"{name}.{member}"
                    continue
                if value is None:
                    if op == "?.":
                        continue
                    raise WorkflowError(f"cannot fetch {member} from nil")
                value = value.get(member) if isinstance(value, dict) else None
                name = None
            elif op == "[":
                self.take()
                index = self.coalesce()
                self.take("]")
                if value is None:
                    raise WorkflowError(f"cannot fetch [{index!r}] from nil")
                value = value.get(index) if isinstance(value, dict) else value[int(index)]
                name = None
            elif op == "(":
                self.take()
                args = self.items(")")
                if name not in FUNCTIONS:
                    raise WorkflowError(f"unknown function {name}")
                value, name = FUNCTIONS[name](*args), None
            else:
                return value

    def items(self, closing: str) -> list:
        """Comma-separated expressions up to `closing` (call arguments, list literals)."""
        values = []
        while self.peek()[1] != closing:
            values.append(self.coalesce())
            if self.peek()[1] == ",":
                self.take()
        self.take(closing)
        return values

    def primary(self):
        kind, text = self.take()
        if kind == "num":
            return (float(text) if "." in text else int(text)), None
        if kind == "str":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape"), None
        if text == "(":
            value = self.coalesce()
            self.take(")")
            return value, None
        if text == "[" and not self.govaluate:
            return self.items("]"), None
        if kind == "name":
            if text in ("true", "false"):
                return text == "true", None
            if text in ("nil", "null"):
                return None, None
            if self.govaluate:
                return text, None  # govaluate variables are compared as strings (Argo's shouldExecute)
            if text in self.env:
                return self.env[text], text
            return None, text  # maybe a function namespace (sprig) or a missing variable
        raise WorkflowError(f"unexpected token {text!r}")


def evaluate_expression(text: str, flat_scope: dict):
    return _Parser(text, expand(flat_scope)).parse()


def evaluate_when(text: str) -> bool:
    result = _Parser(text, {}, govaluate=True).parse()
    if not isinstance(result, bool):
        raise WorkflowError(f"when {text!r} does not evaluate to a boolean")
    return result


def substitute(value, scope: dict):
    """Replace every tag in a str/list/dict; an unresolved simple tag is an error, as in Argo."""
    if isinstance(value, list):
        return [substitute(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, scope) for k, v in value.items()}
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        is_expression, body = match.group(1), match.group(2).strip()
        if is_expression:
            result = evaluate_expression(body, scope)
            if result is None:
                raise WorkflowError(f"expression {body!r} evaluated to nil")
            return result if isinstance(result, str) else json.dumps(result)
        if body not in scope:
            raise WorkflowError(f"failed to resolve {{{{{body}}}}}")
        return scope[body]

    return _TAG.sub(replace, value)


# -- the interpreter ----------------------------------------------------------------------------------------
class LocalArgo:
    """Run compiled Workflows locally; keeps the memoization cache across runs, as a ConfigMap would."""

    def __init__(self, workdir: Path, env: dict | None = None, python: str = sys.executable, workers: int = 3):
        self.workdir = Path(workdir)
        self.workers = workers
        self.env = dict(os.environ if env is None else env)
        self.python = python
        self.cache: dict[str, dict] = {}
        self.counter = itertools.count()

    def run(self, workflow: dict, parameters: dict | None = None) -> Run:
        if workflow.get("kind") != "Workflow":
            raise WorkflowError(f"can only run a Workflow, not a {workflow.get('kind')}")
        return Run(self, workflow, parameters or {}).execute()


class Run:
    def __init__(self, engine: LocalArgo, workflow: dict, parameters: dict):
        self.engine, self.spec = engine, workflow["spec"]
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.name = workflow["metadata"].get("generateName", "wf-") + secrets.token_hex(3)[:5]
        self.nodes: list[Node] = []
        self.globals = {"workflow.name": self.name, "workflow.uid": secrets.token_hex(8),
                        "workflow.creationTimestamp": "2024-01-01T00:00:00Z"}
        declared = {p["name"]: p.get("value") for p in self.spec.get("arguments", {}).get("parameters", [])}
        unknown = set(parameters) - set(declared)
        if unknown:
            raise WorkflowError(f"unknown workflow parameters {sorted(unknown)}")
        for name, value in {**declared, **{k: str(v) for k, v in parameters.items()}}.items():
            if value is None:
                raise WorkflowError(f"spec.arguments.parameters.{name}.value is required")
            self.globals[f"workflow.parameters.{name}"] = value
        self.phase = "Running"
        self.outputs: dict = {}

    def execute(self) -> Run:
        try:
            self.outputs = self.run_template(self.spec["entrypoint"], {}, self.name)
            self.phase = "Succeeded"
        except StepFailed:
            self.phase = "Failed"
        return self

    def node(self, name: str) -> Node:
        matches = [n for n in self.nodes if n.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} nodes named {name}: {[n.name for n in self.nodes]}")
        return matches[0]

    def run_template(self, name: str, inputs: dict, node_name: str) -> dict:
        if name not in self.templates:
            raise WorkflowError(f"template {name!r} not found")
        template = self.templates[name]
        declared = [p["name"] for p in template.get("inputs", {}).get("parameters", [])]
        missing = [p for p in declared if p not in inputs]
        if missing:
            raise WorkflowError(f"template {name}: inputs.parameters {missing} were not supplied")
        scope = {**self.globals, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
        if "dag" in template:
            return self.run_dag(template, scope, node_name)
        return self.run_pod(template, scope, inputs, node_name)

    def run_dag(self, template: dict, scope: dict, prefix: str) -> dict:
        tasks = {t["name"]: t for t in template["dag"]["tasks"]}
        done: dict[str, str] = {}
        while len(done) < len(tasks):
            ready = sorted((t for n, t in tasks.items() if n not in done and self.dependencies(t) <= set(done)),
                           key=lambda t: t["name"])
            if not ready:
                raise WorkflowError(f"DAG {template['name']} cannot progress: {sorted(set(tasks) - set(done))}")
            # Ready tasks run side by side, as the controller starts them together.
            for task, phase in zip(ready, self.parallel(
                    [lambda t=t: self.run_task(t, scope, f"{prefix}.{t['name']}") for t in ready]), strict=True):
                done[task["name"]] = phase
        outputs = {}
        for parameter in template.get("outputs", {}).get("parameters", []):
            source = parameter["valueFrom"]
            if "expression" in source:
                value = evaluate_expression(source["expression"], scope)
            else:
                value = substitute(source["parameter"], scope)
            if value is None:
                raise WorkflowError(f"output {parameter['name']} of {template['name']} resolved to nil")
            outputs[parameter["name"]] = value
        return outputs

    @staticmethod
    def dependencies(task: dict) -> set[str]:
        depends = task.get("depends", "")
        if any(word in depends for word in ("||", "!", ".")):
            raise WorkflowError(f"only 'a && b' depends are supported here, got {depends!r}")
        return {d.strip() for d in depends.split("&&") if d.strip()}

    def run_task(self, task: dict, scope: dict, node_name: str) -> str:
        items = [None]
        if "withItems" in task:
            items = task["withItems"]
        elif "withParam" in task:
            items = json.loads(substitute(task["withParam"], scope))
        looped = "withItems" in task or "withParam" in task
        results = self.parallel([lambda i=i, item=item: self.run_item(task, scope, node_name, i, item, looped)
                                 for i, item in enumerate(items)])
        task_name = task["name"]
        ran = [r for r in results if r is not None]
        if looped:
            names = {k for r in ran for k in r}
            for key in names:  # Argo aggregates a loop's outputs into JSON lists
                scope[f"tasks.{task_name}.outputs.parameters.{key}"] = json.dumps([r.get(key) for r in ran])
        elif ran:
            for key, value in ran[0].items():
                scope[f"tasks.{task_name}.outputs.parameters.{key}"] = value
        scope[f"tasks.{task_name}.status"] = "Succeeded" if ran else "Skipped"
        return "Succeeded" if ran else "Skipped"

    def parallel(self, calls: list) -> list:
        """Run calls on a few threads (steps are subprocesses); the first StepFailed wins."""
        from concurrent.futures import ThreadPoolExecutor

        if len(calls) == 1:
            return [calls[0]()]
        with ThreadPoolExecutor(max_workers=self.engine.workers) as pool:
            futures = [pool.submit(call) for call in calls]
            return [f.result() for f in futures]

    def run_item(self, task: dict, scope: dict, node_name: str, index: int, item, looped: bool):
        local = dict(scope)
        if looped:
            local["item"] = item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))
            if isinstance(item, dict):
                local.update({f"item.{k}": v if isinstance(v, str) else json.dumps(v) for k, v in item.items()})
        name = f"{node_name}({index})" if looped else node_name
        when = task.get("when")
        if when and not evaluate_when(substitute(when, local)):
            self.nodes.append(Node(name, task["template"], "Skipped"))
            return None
        arguments = {p["name"]: substitute(p.get("value", ""), local)
                     for p in task.get("arguments", {}).get("parameters", [])}
        return self.run_template(task["template"], arguments, name)

    def run_pod(self, template: dict, scope: dict, inputs: dict, node_name: str) -> dict:
        pod_name = f"{self.name}-{template['name']}-{next(self.engine.counter)}"
        scope = {**scope, "pod.name": pod_name}
        node = Node(node_name, template["name"], "Running", inputs=inputs)
        self.nodes.append(node)
        memoize = template.get("memoize")
        if memoize:
            node.memo_key = substitute(memoize["key"], scope)
            if not re.fullmatch(r"[a-zA-Z0-9][-a-zA-Z0-9]*", node.memo_key) or len(node.memo_key) > 253:
                raise WorkflowError(f"invalid cache key: {node.memo_key}")
            if node.memo_key in self.engine.cache:
                node.phase, node.memoized = "Succeeded", True
                node.outputs = dict(self.engine.cache[node.memo_key])
                return node.outputs
        body = template.get("script") or template.get("container")
        command = substitute(body["command"] + body.get("args", []), scope)
        if command[0] == "python":
            command[0] = self.engine.python
        pod_dir = self.engine.workdir / pod_name
        outputs_dir = pod_dir / "outputs"
        outputs_dir.mkdir(parents=True)
        if "script" in template:
            script = pod_dir / "script"
            script.write_text(substitute(body["source"], scope))
            command.append(str(script))  # Argo appends /argo/staging/script to the args
        env = dict(self.engine.env)
        for variable in body.get("env", []):
            if "value" in variable:
                env[variable["name"]] = substitute(variable["value"], scope)
        env["PORTWAY_OUTPUTS_DIR"] = str(outputs_dir)
        env["HOME"] = str(pod_dir)
        limit = int(template.get("retryStrategy", {}).get("limit", 0))
        for attempt in range(limit + 1):
            node.attempts = attempt + 1
            result = subprocess.run(command, env=env, cwd=pod_dir, capture_output=True, text=True, timeout=600)
            node.log += result.stdout + result.stderr
            if result.returncode == 0:
                break
        else:
            node.phase = "Failed"
            raise StepFailed(node)
        for parameter in template.get("outputs", {}).get("parameters", []):
            path = parameter["valueFrom"]["path"]
            local = outputs_dir / Path(path).relative_to(OUTPUTS_DIR) if path.startswith(OUTPUTS_DIR) else Path(path)
            if not local.exists():
                node.phase = "Failed"
                raise StepFailed(node)
            node.outputs[parameter["name"]] = local.read_text()
        node.phase = "Succeeded"
        if memoize:
            self.engine.cache[node.memo_key] = dict(node.outputs)
        return node.outputs


class StepFailed(Exception):
    def __init__(self, node: Node):
        super().__init__(f"{node.name} failed:\n{node.log[-3000:]}")
        self.node = node
