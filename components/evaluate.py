"""evaluate component: test-split metrics, evaluation.json and the gate decision.

Logic: portway.steps.evaluate (metrics) and portway.steps.gate (the decision).
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Artifact, ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate(
    model: Input[Model],
    test_data: Input[Dataset],
    gate_metric: str,
    threshold: float,
    gate_rules: str,
    metrics: Output[Metrics],
    classification_metrics: Output[ClassificationMetrics],
    evaluation: Output[Artifact],
) -> NamedTuple("EvaluateOutputs", [("passed", bool), ("decision", str)]):
    """Score the model; `passed` drives the pipeline's gate (SageMaker's ConditionStep)."""
    import json
    from collections import namedtuple

    from portway.steps.evaluate import evaluate_model
    from portway.steps.gate import build_rules, decide

    result = evaluate_model(model.path, test_data.path, evaluation.path)
    decision = decide(build_rules(gate_metric, threshold, gate_rules), result["metrics"])
    for name, value in result["metrics"].items():
        metrics.log_metric(name, round(value, 6))
    # KFP's local cache treats an output without a file as missing; the metrics file is also handy.
    with open(metrics.path, "w") as f:
        json.dump(result["metrics"], f)
    classification_metrics.log_confusion_matrix(result["classes"], result["confusion_matrix"])
    if "roc" in result["curves"]:
        roc = result["curves"]["roc"]
        classification_metrics.log_roc_curve(roc["fpr"], roc["tpr"], roc["thresholds"])
    with open(classification_metrics.path, "w") as f:
        json.dump({"confusion_matrix": result["confusion_matrix"], "classes": result["classes"]}, f)
    evaluation.metadata.update({"metrics": result["metrics"], "gate": decision, "test_rows": result["test_rows"],
                                "classes": result["classes"]})
    outputs = namedtuple("EvaluateOutputs", ["passed", "decision"])
    return outputs(decision["passed"], json.dumps(decision))
