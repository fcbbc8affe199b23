"""register component: a new model version in the registry. Logic: portway.steps.register."""

from kfp import dsl
from kfp.dsl import HTML, Artifact, Input, Model

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def register(
    model: Input[Model],
    evaluation: Input[Artifact],
    report: Input[HTML],
    data_uri: str,
    data_fingerprint: str,
    model_group: str,
    approval_status: str,
    registry_root: str,
    code_version: str,
    pipeline_name: str,
    run_id: str,
    new_schema: bool = False,
    allow_duplicate: bool = False,
) -> str:
    """Register the model (SageMaker's RegisterModel) with its evaluation report; returns the registration as JSON."""
    import json

    from portway.steps.exit_codes import exit_codes
    from portway.steps.register import register_model
    from portway.steps.train import whole_number_settings

    with exit_codes():
        record = register_model(
            registry_root=registry_root,
            model_group=model_group,
            model_dir=model.path,
            evaluation_path=evaluation.path,
            approval_status=approval_status,
            extra_files={"report.html": report.path},
            new_schema=new_schema,
            allow_duplicate=allow_duplicate,
            lineage={
                "data_uri": data_uri,
                "data_sha256": data_fingerprint,
                "pipeline": pipeline_name,
                "run_id": run_id,
                "code_version": code_version,
                # The run folder that produced the model: <runs>/<run-id>/artifacts/<kfp-job>/train/model.
                "model_artifact_uri": model.uri,
                "parameters": whole_number_settings(dict(model.metadata.get("parameters", {}))),
                # The gate's decision: every rule with the candidate's score and its bound, and the
                # champion (version and its scores on this test split) when there was one.
                "gate": dict(evaluation.metadata.get("gate", {})),
            },
        )
    return json.dumps(record)


# Checked before a local run starts, with the inputs known then (portway.steps.preflight).
register.portway_check = "portway.steps.preflight:register"


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def gate_failed(decision: str) -> str:
    """The gate's else-branch: nothing is registered; say why (SageMaker's FailStep, minus the failure)."""
    import json

    return json.dumps({"registered": False, "reason": json.loads(decision)["summary"]})
