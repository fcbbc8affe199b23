"""select: the best of a hyperparameter search's candidates, chosen on the validation split.

The test split stays untouched by the choice: the chosen model then goes through `evaluate`
(test split, champion, gate) and `register` like any continuous-training candidate.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from portway.errors import ParameterError


def select_best(model_dirs: list[str], validation_path: str, metric: str, best_dir: str) -> dict:
    """Score every candidate on the validation split, copy the best one's files to `best_dir`.
    Returns {"best": index, "metric": metric, "scores": [value per candidate]}."""
    from portway.fileio import read_json
    from portway.steps.evaluate import score
    from portway.steps.gate import LOWER_IS_BETTER, check_metric
    from portway.steps.splits import load_split
    from portway.steps.train import FEATURE_SCHEMA_FILE, load_booster

    check_metric(metric)
    if not model_dirs:
        raise ParameterError("hyperparameter search: no candidates to choose from; give at least one candidate.")
    scores = []
    for model_dir in model_dirs:
        schema = read_json(Path(model_dir) / FEATURE_SCHEMA_FILE)
        X, y = load_split(validation_path, schema)
        scores.append(float(score(load_booster(model_dir), X, y, schema["classes"])["metrics"][metric]))
    sign = 1 if metric in LOWER_IS_BETTER else -1
    best = min(range(len(scores)), key=lambda i: (sign * scores[i], i))  # a tie goes to the earlier candidate
    shutil.copytree(model_dirs[best], best_dir, dirs_exist_ok=True)
    return {"best": best, "metric": metric, "scores": scores}
