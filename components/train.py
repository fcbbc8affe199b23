"""train component: XGBoost with early stopping. Logic: portway.steps.train."""

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Model, Output

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def train(
    train_data: Input[Dataset],
    validation_data: Input[Dataset],
    profile: Input[Artifact],
    gpus: int,
    max_depth: int,
    eta: float,
    subsample: float,
    colsample_bytree: float,
    min_child_weight: float,
    num_boost_round: int,
    early_stopping_rounds: int,
    seed: int,
    model: Output[Model],
    workers: int = 1,
):
    """Train on the train split, stop early on the validation split; save model.json (never pickle).

    With workers > 1: that many XGBoost workers, each on its own shard (portway.trainjob.launch).
    """
    from portway.steps.exit_codes import exit_codes
    from portway.trainjob.launch import train_step

    with exit_codes():
        record = train_step(
            workers=workers,
            train_data=train_data,
            validation_data=validation_data,
            profile=profile,
            model=model,
            hyperparameters={"max_depth": max_depth, "eta": eta, "subsample": subsample,
                             "colsample_bytree": colsample_bytree, "min_child_weight": min_child_weight},
            num_boost_round=num_boost_round,
            early_stopping_rounds=early_stopping_rounds,
            gpus=gpus,
            seed=seed,
        )
    model.metadata.update(
        {"framework": "xgboost", "model_file": "model.json", "device": record["device"],
         "feature_names": record["feature_names"], "parameters": record["parameters"],
         "best_iteration": record["best_iteration"], "workers": record["workers"]}
    )


# Checked before a local run starts, with the inputs known then (portway.steps.preflight).
train.portway_check = "portway.steps.preflight:train"
