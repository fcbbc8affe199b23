"""Strict validation of a TrainJob against Kubeflow Trainer v2.3.0's CRD (schema + CEL rules + ObjectMeta)."""

from __future__ import annotations

from pathlib import Path

import yaml
from k8s_validation import cel_errors, core_errors, describe
from schema_tools import crd_validator, schema_errors

from portway.devtools.charts import KUBE_VERSIONS

TRAINER_DIR = "kubeflow-trainer/v2.3.0"
TRAINJOB_CRD = f"{TRAINER_DIR}/trainer.kubeflow.org_trainjobs.yaml"
RUNTIMES = f"{TRAINER_DIR}/xgboost_distributed.yaml"


def trainjob_errors(obj: dict, schemas_dir: Path) -> list[str]:
    crd = Path(schemas_dir) / TRAINJOB_CRD
    errors = [f"{describe(obj)}: {e}" for e in schema_errors(obj, crd_validator(crd))]
    meta = obj.get("metadata", {})
    if "generateName" in meta:  # the API server appends 5 characters, then validates the name
        meta = {**{k: v for k, v in meta.items() if k != "generateName"}, "name": meta["generateName"] + "abcde"}
    errors += cel_errors({**obj, "metadata": meta}, crd)
    carrier = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
    errors += [e for version in KUBE_VERSIONS for e in core_errors(carrier, version)]
    return errors


def runtimes(schemas_dir: Path) -> list[dict]:
    with open(Path(schemas_dir) / RUNTIMES) as f:
        return [d for d in yaml.safe_load_all(f) if d]
