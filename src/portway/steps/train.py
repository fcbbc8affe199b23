"""train: XGBoost with early stopping on the validation split (SageMaker's TrainingStep).

The model is saved as XGBoost's own JSON (`model.json`), which KServe's XGBoost runtimes
(MLServer and xgbserver) load directly; nothing is pickled. Beside it, `feature_schema.json`
records the feature names, their types and category codes, and the class labels, so a
server or a client can build requests in the right column order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from portway.errors import ParameterError
from portway.fileio import write_json_atomic

MODEL_FILE = "model.json"
FEATURE_SCHEMA_FILE = "feature_schema.json"

# The settings that are whole numbers. KFP carries artifact metadata as a protobuf Struct, whose numbers
# are doubles, so a later step reads the model's max_depth 6 back as 6.0 (kfp.local and KFP's backend alike).
INTEGER_SETTINGS = frozenset({"max_depth", "num_boost_round", "early_stopping_rounds", "seed", "nthread",
                              "num_class", "workers", "max_bin", "num_parallel_tree"})


def whole_number_settings(parameters: dict) -> dict:
    """`parameters` with the integer settings as ints again after a trip through KFP metadata."""
    return {name: int(value) if name in INTEGER_SETTINGS and isinstance(value, float) and value.is_integer()
            else value for name, value in parameters.items()}


DEFAULT_HYPERPARAMETERS = {
    "max_depth": 6,
    "eta": 0.1,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
}


def cuda_available() -> bool:
    """True when this XGBoost build has CUDA and a GPU is visible to the process."""
    import xgboost

    if not xgboost.build_info().get("USE_CUDA"):
        return False
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return Path("/dev/nvidia0").exists()
    try:
        result = subprocess.run([nvidia_smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and "GPU" in result.stdout


def choose_device(gpus: int, cuda_present: bool | None = None) -> tuple[str, str]:
    """(xgboost device, a sentence for the log saying why)."""
    if gpus < 0:
        raise ParameterError(f"gpus must be 0 or more, got {gpus}.")
    if gpus == 0:
        return "cpu", "training on CPU (no GPU requested)"
    if cuda_present is None:
        cuda_present = cuda_available()
    if cuda_present:
        return "cuda", f"training on GPU (device=cuda, {gpus} requested)"
    return "cpu", (
        f"{gpus} GPU(s) requested but no CUDA device is available to XGBoost here; "
        "falling back to CPU (on a cluster the train step requests the GPU)"
    )


def validate_hyperparameters(hyperparameters: dict, num_boost_round: int, early_stopping_rounds: int) -> None:
    checks = {
        "max_depth": lambda v: isinstance(v, int) and 1 <= v <= 64,
        "eta": lambda v: 0 < v <= 1,
        "subsample": lambda v: 0 < v <= 1,
        "colsample_bytree": lambda v: 0 < v <= 1,
        "min_child_weight": lambda v: v >= 0,
        "reg_lambda": lambda v: v >= 0,
    }
    for name, ok in checks.items():
        if name in hyperparameters and not ok(hyperparameters[name]):
            raise ParameterError(f"hyperparameter {name}={hyperparameters[name]!r} is out of range.")
    if num_boost_round < 1:
        raise ParameterError(f"num_boost_round must be at least 1, got {num_boost_round}.")
    if early_stopping_rounds < 0:
        raise ParameterError(f"early_stopping_rounds must be 0 (off) or more, got {early_stopping_rounds}.")


def booster_parameters(params: dict, classes: list, device: str, nthread: int, seed: int) -> dict:
    """XGBoost's parameters for `hist` training of a binary or multi-class classifier."""
    binary = len(classes) == 2
    booster_params = {
        **params,
        "tree_method": "hist",
        "device": device,
        "objective": "binary:logistic" if binary else "multi:softprob",
        "eval_metric": "logloss" if binary else "mlogloss",
        "nthread": nthread or os.cpu_count() or 1,
        "seed": seed,
    }
    if not binary:
        booster_params["num_class"] = len(classes)
    return booster_params


def save_model(booster, profile: dict, model_dir: str) -> None:
    """model.json, then feature_schema.json, each written atomically into `model_dir`."""
    from portway.steps.splits import feature_names

    out = Path(model_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp_model = out / f".partial.{MODEL_FILE}"  # XGBoost picks the format from the suffix: keep .json
    booster.save_model(str(tmp_model))
    os.replace(tmp_model, out / MODEL_FILE)
    schema = {
        "target": profile["target"],
        "classes": profile["classes"],
        "features": profile["features"],
        "feature_names": feature_names(profile),
        "model_format": "xgboost",
        "model_file": MODEL_FILE,
    }
    write_json_atomic(out / FEATURE_SCHEMA_FILE, schema)


def train_model(
    train_path: str,
    validation_path: str,
    profile: dict,
    model_dir: str,
    hyperparameters: dict | None = None,
    num_boost_round: int = 300,
    early_stopping_rounds: int = 20,
    gpus: int = 0,
    nthread: int = 0,
    seed: int = 42,
) -> dict:
    """Train and save the model into `model_dir`. Returns the training record."""
    import xgboost as xgb

    from portway.steps.splits import feature_names, load_split

    params = {**DEFAULT_HYPERPARAMETERS, **(hyperparameters or {})}
    validate_hyperparameters(params, num_boost_round, early_stopping_rounds)
    device, device_note = choose_device(gpus)
    # Printed, not only logged: the step's stdout is what the run log and `kubectl logs` show.
    print(f"portway train: {device_note}", flush=True)

    classes = profile["classes"]
    names = feature_names(profile)
    X_train, y_train = load_split(train_path, profile)
    X_val, y_val = load_split(validation_path, profile)
    dtrain = xgb.DMatrix(X_train, label=y_train, feature_names=names, nthread=nthread or -1)
    dval = xgb.DMatrix(X_val, label=y_val, feature_names=names, nthread=nthread or -1)

    booster_params = booster_parameters(params, classes, device, nthread, seed)
    booster = xgb.train(
        booster_params,
        dtrain,
        num_boost_round=num_boost_round,
        evals=[(dval, "validation")],
        early_stopping_rounds=early_stopping_rounds or None,
        verbose_eval=False,
    )
    best_iteration = getattr(booster, "best_iteration", num_boost_round - 1)
    if early_stopping_rounds:
        # Keep only the trees up to the best round, so the saved model is the one early stopping chose.
        booster = booster[: best_iteration + 1]

    save_model(booster, profile, model_dir)
    return {
        "device": device,
        "device_note": device_note,
        "feature_names": names,
        "parameters": {**booster_params, "num_boost_round": num_boost_round,
                       "early_stopping_rounds": early_stopping_rounds},
        "best_iteration": int(best_iteration),
        "trees": int(booster.num_boosted_rounds()),
        "train_rows": int(X_train.shape[0]),
        "validation_rows": int(X_val.shape[0]),
    }


def load_booster(model_dir: str):
    """Load a saved model (JSON/UBJ only; never pickle)."""
    import xgboost as xgb

    from portway.errors import InputDataError

    path = Path(model_dir) / MODEL_FILE
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except (xgb.core.XGBoostError, OSError, ValueError) as exc:
        raise InputDataError(f"Cannot load the model {path}: {str(exc).splitlines()[0][:200]}") from None
    return booster
