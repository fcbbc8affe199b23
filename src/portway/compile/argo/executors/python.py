"""Python function components as the KFP SDK emits them (@dsl.component in every form).

The SDK writes a container executor whose args are `--executor_input {{$}} --function_to_execute NAME`
and whose command either installs kfp (and packages_to_install, from pip_index_urls) and runs the
function source embedded in the command (lightweight components, with or without
install_kfp_package), or runs `python3 -m kfp.dsl.executor_main` on source baked into the image
(containerized components, target_image). Either way the step's own KFP executor
(kfp/dsl/executor.py) runs unchanged: returned values go into executor_output.json
("parameterValues"), OutputPath parameters into their output files.
"""

from __future__ import annotations

import ast


def function_name(container: dict) -> str | None:
    args = container.get("args", [])
    if "--executor_input" in args and "--function_to_execute" in args:
        position = args.index("--function_to_execute") + 1
        return args[position] if position < len(args) else None
    return None


def is_python_component(container: dict) -> bool:
    return function_name(container) is not None


def file_outputs(container: dict) -> set[str] | None:
    """Output parameters the function writes to files (OutputPath); None when its source is in the image."""
    name = function_name(container)
    for text in reversed(container.get("command", [])):
        if f"def {name}(" not in text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                return {a.arg for a in arguments if a.annotation is not None
                        and "OutputPath" in ast.unparse(a.annotation)}
    return None
