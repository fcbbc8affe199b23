"""Where a pipeline comes from: one resolver for `run`, `compile` and `submit`.

A PIPELINE argument is one of
- a bundled short name (PIPELINES);
- `package.module:attribute`, imported with the current directory importable (as `python -m` does);
- `path/to/file.py:attribute`, or `path/to/file.py` when the file defines exactly one pipeline;
- a compiled KFP IR file (`.yaml`, `.yml`, `.json`) as `kfp.compiler` writes it (IR-only: `load_ir`).
Every mistake is a ParameterError naming the argument and what was expected.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from portway.errors import ParameterError

PIPELINES = {
    "continuous-training": "portway.pipelines.continuous_training:continuous_training",
    "hyperparameter-search": "portway.pipelines.hyperparameter_search:hyperparameter_search",
}
IR_SUFFIXES = (".yaml", ".yml", ".json")


def is_pipeline(value) -> bool:
    """A @dsl.pipeline (kfp's GraphComponent) rather than a component or anything else."""
    return hasattr(value, "pipeline_spec") and type(value).__name__ == "GraphComponent"


def is_ir_file(spec: str) -> bool:
    return spec.lower().endswith(IR_SUFFIXES) and ":" not in Path(spec).name


def _import_file(path: Path, spec: str):
    if not path.is_file():
        raise ParameterError(f"pipeline {spec!r}: file {path} does not exist.")
    # A stable module name per file, so that kfp.local and pickling-free reloads see one module.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"portway_user_pipeline_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    # The file's own folder is importable, so that `from helpers import x` beside it works.
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise ParameterError(f"pipeline {spec!r}: {path} has a syntax error at line {exc.lineno}: {exc.msg}.") from None
    except Exception as exc:  # the user's module failed while importing: name it, no traceback
        del sys.modules[name]
        raise ParameterError(f"pipeline {spec!r}: importing {path} failed: {type(exc).__name__}: {exc}.") from None
    return module


def _import_module(module_name: str, spec: str):
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ParameterError(
                f"pipeline {spec!r}: no module named {module_name!r} (from the current directory "
                f"{os.getcwd()} or the installed packages); use module:attribute, path/to/file.py:attribute, "
                f"or one of {', '.join(PIPELINES)}."
            ) from None
        raise ParameterError(f"pipeline {spec!r}: importing {module_name} failed: {exc}.") from None
    except Exception as exc:
        raise ParameterError(f"pipeline {spec!r}: importing {module_name} failed: {type(exc).__name__}: {exc}.") from None


def load_pipeline(spec: str):
    """The @dsl.pipeline a PIPELINE argument names (not an IR file: see `load_ir`)."""
    if not spec:
        raise ParameterError("pipeline: empty name; use one of "
                             f"{', '.join(PIPELINES)}, module:attribute or path/to/file.py:attribute.")
    if is_ir_file(spec):
        raise ParameterError(f"pipeline {spec!r} is a compiled IR file; this command needs the pipeline's "
                             "Python source (module:attribute or path/to/file.py:attribute).")
    target = PIPELINES.get(spec, spec)
    location, sep, attribute = target.rpartition(":") if ":" in target else (target, "", "")
    if location.endswith(".py") or (not sep and target.endswith(".py")):
        module = _import_file(Path(location or target), spec)
    elif sep:
        module = _import_module(location, spec)
    else:
        raise ParameterError(f"pipeline {spec!r} is not known; use one of {', '.join(PIPELINES)}, "
                             "module:attribute or path/to/file.py:attribute.")
    if not attribute:
        found = sorted(name for name, value in vars(module).items() if is_pipeline(value))
        if len(found) != 1:
            raise ParameterError(
                f"pipeline {spec!r}: the file defines {len(found)} pipelines ({', '.join(found) or 'none'}); "
                "name one as path/to/file.py:attribute."
            )
        attribute = found[0]
    pipeline = getattr(module, attribute, None)
    if pipeline is None:
        found = sorted(name for name, value in vars(module).items() if is_pipeline(value))
        raise ParameterError(f"pipeline {spec!r}: {location} has no attribute {attribute!r}"
                             + (f"; its pipelines: {', '.join(found)}." if found else "."))
    if not is_pipeline(pipeline):
        raise ParameterError(f"pipeline {spec!r}: {attribute} is a {type(pipeline).__name__}, "
                             "not a @dsl.pipeline.")
    return pipeline


def read_ir_file(path: str | os.PathLike) -> dict:
    """{"pipeline_spec", "platform_spec"} from a compiled IR file, checked against KFP's protobuf messages."""
    import yaml

    from portway.compile.kfp_target import parse_strict

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"pipeline {str(path)!r}: file does not exist.")
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ParameterError(f"pipeline {str(path)!r} is not YAML: {' '.join(str(exc).split())}.") from None
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise ParameterError(f"pipeline {str(path)!r}: expected a KFP IR (a PipelineSpec mapping), "
                             f"found {type(documents[0]).__name__ if documents else 'an empty file'}.")
    pipeline_spec = documents[0]
    for key in ("pipelineInfo", "root"):
        if key not in pipeline_spec:
            raise ParameterError(f"pipeline {str(path)!r}: not a KFP PipelineSpec: the field {key!r} is missing "
                                 "(compile the pipeline with kfp.compiler.Compiler or portway compile --target kfp).")
    platform_spec = next((d for d in documents[1:] if "platforms" in d), None)
    compiled = {"pipeline_spec": pipeline_spec, "platform_spec": platform_spec}
    try:
        parse_strict(compiled)
    except Exception as exc:  # protobuf's ParseError names the field
        raise ParameterError(f"pipeline {str(path)!r}: not a valid KFP IR: {' '.join(str(exc).split())}.") from None
    return compiled


def load_ir(spec: str, image: str | None = None) -> dict:
    """The compiled IR for any PIPELINE argument, an IR file included."""
    from portway.compile.kfp_target import compile_kfp, set_project_image

    if is_ir_file(spec):
        compiled = read_ir_file(spec)
        if image is not None:
            set_project_image(compiled["pipeline_spec"], image)
        return compiled
    return compile_kfp(load_pipeline(spec), image=image)
