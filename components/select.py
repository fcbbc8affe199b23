"""select component: the best hyperparameter candidate on the validation split. Logic: portway.steps.select."""


from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def select_best(
    models: Input[list[Model]],
    validation_data: Input[Dataset],
    metric: str,
    best_model: Output[Model],
) -> str:
    """Copy the candidate that scores best on the validation split; returns the scores as JSON."""
    import json

    from portway.steps.exit_codes import exit_codes
    from portway.steps.select import select_best as choose

    with exit_codes():
        result = choose([m.path for m in models], validation_data.path, metric, best_model.path)
    chosen = models[result["best"]]
    best_model.metadata.update({**chosen.metadata, "candidate": result["best"],
                                f"validation_{metric}": result["scores"][result["best"]]})
    return json.dumps(result)
