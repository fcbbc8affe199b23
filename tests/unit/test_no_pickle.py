"""No pickle anywhere a model or artifact is loaded; YAML only through safe loading.

A static scan (ast) of everything that ships or that users run: src/, components/,
pipelines/, scripts/, bench/. Unpickling
runs code from the file, so a model or artifact from a registry, a bucket or a cache must
never reach pickle, joblib, cloudpickle, dill, numpy's allow_pickle, torch.load or
yaml's full loaders. Models are XGBoost JSON/UBJ, which the test also checks at runtime.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [REPO / name for name in ("src", "components", "pipelines", "scripts", "bench")]

UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "joblib", "cloudpickle", "dill", "shelve", "marshal"}
# Calls that deserialise code-carrying formats, by their dotted name.
UNSAFE_CALLS = {"yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all",
                "torch.load", "pandas.read_pickle", "pd.read_pickle", "numpy.load", "np.load"}
UNSAFE_YAML_LOADERS = {"Loader", "UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader", "CFullLoader"}
# The one place a model file is loaded; any other load_model call must be reviewed and added here.
MODEL_LOADERS = {("src/portway/steps/train.py", "load_booster")}


def python_files() -> list[Path]:
    return sorted(p for root in SHIPPED for p in root.rglob("*.py"))


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def names_a_json_or_ubj_file(call: ast.Call) -> bool:
    """XGBoost picks the format from the suffix: a path spelled with .json/.ubj (or MODEL_FILE,
    which is model.json) cannot load the legacy binary or a pickle."""
    if not call.args:
        return False
    for node in ast.walk(call.args[0]):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith((".json", ".ubj")):
            return True
        if isinstance(node, ast.Name) and node.id == "MODEL_FILE":
            return True
    return False


def unsafe_uses(source: str, filename: str) -> list[str]:
    """Every unsafe deserialisation in `source`, as 'file:line: what'."""
    tree = ast.parse(source, filename)
    problems = []
    functions = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for child in ast.walk(node):
                functions.setdefault(id(child), node.name)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            problems += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            problems.append(f"{where}: from {node.module} import …")
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in UNSAFE_CALLS and not (name.endswith(".load") and name.startswith(("np", "numpy"))):
                problems.append(f"{where}: {name}()")
            elif name in ("np.load", "numpy.load"):
                allow = keyword(node, "allow_pickle")
                if isinstance(allow, ast.Constant) and allow.value is True or (allow and not isinstance(allow, ast.Constant)):
                    problems.append(f"{where}: {name}(allow_pickle=…)")
            elif name in ("yaml.load", "yaml.load_all"):
                loader = keyword(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
                if loader is None or dotted(loader).rsplit(".", 1)[-1] not in ("SafeLoader", "CSafeLoader"):
                    problems.append(f"{where}: {name}() without SafeLoader")
            elif (name.endswith(".load_model") and (filename, functions.get(id(node))) not in MODEL_LOADERS
                  and not names_a_json_or_ubj_file(node)):
                problems.append(f"{where}: {name}() of a file not visibly .json/.ubj, outside the reviewed loader")
        elif isinstance(node, ast.Attribute) and dotted(node.value) == "yaml" and node.attr in UNSAFE_YAML_LOADERS:
            problems.append(f"{where}: yaml.{node.attr}")
    return problems


def test_the_scan_finds_what_it_looks_for():
    bad = "\n".join([
        "import pickle", "from joblib import load", "import cloudpickle as cp", "import yaml",
        "yaml.load(text)", "yaml.load(text, Loader=yaml.Loader)", "yaml.unsafe_load(text)",
        "torch.load(path)", "np.load(path, allow_pickle=True)", "pd.read_pickle(path)",
        "booster.load_model(path)",
    ])
    assert len(unsafe_uses(bad, "bad.py")) == 11
    good = ("import yaml\nyaml.safe_load(text)\nyaml.load(text, Loader=yaml.SafeLoader)\nnp.load(path)\n"
            "booster.load_model(str(root / 'model' / 'model.json'))\n")
    assert unsafe_uses(good, "good.py") == []


def test_shipped_code_never_unpickles_and_loads_yaml_safely():
    files = python_files()
    assert len(files) > 20
    problems = [p for f in files for p in unsafe_uses(f.read_text(), f.relative_to(REPO).as_posix())]
    assert problems == [], "\n".join(problems)


def test_the_model_loader_reads_xgboost_json_and_refuses_a_pickle(tmp_path, trained):
    from portway.errors import InputDataError
    from portway.steps.train import MODEL_FILE, load_booster

    assert MODEL_FILE.endswith(".json")
    assert load_booster(trained["model_dir"]).num_boosted_rounds() > 0

    # A pickle under the model's name whose unpickling would create a marker file.
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / MODEL_FILE).write_bytes(pickle.dumps(Payload()))  # noqa: S301 (the attack under test)
    with pytest.raises(InputDataError, match=f"Cannot load the model .*{MODEL_FILE}"):
        load_booster(str(tmp_path / "model"))
    assert not marker.exists()
