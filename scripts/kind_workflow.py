"""Helpers for `make kind-run` (scripts/kind.sh run): upload the dataset, compile for kind.

    python scripts/kind_workflow.py upload-data       # AWS_ENDPOINT_URL + keys point at MinIO
    python scripts/kind_workflow.py compile --image IMAGE --endpoint URL --secret NAME > workflow.yaml

kind has no GPU, so `compile` builds the pipeline with the train step sized for CPU (no
accelerator, no GPU pool selector or toleration); everything else is the pipeline as shipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

ARTIFACTS_BUCKET = "portway-artifacts"
MODELS_BUCKET = "portway-models"
DATASET_KEY = "datasets/churn.csv"
DATA_URI = f"s3://{ARTIFACTS_BUCKET}/{DATASET_KEY}"
REGISTRY_ROOT = f"s3://{MODELS_BUCKET}/registry"
ARTIFACT_ROOT = f"s3://{ARTIFACTS_BUCKET}/pipelines"


def upload_data() -> None:
    import boto3

    from portway.datasets import __path__ as datasets_path

    source = f"{datasets_path[0]}/churn.csv"
    boto3.client("s3").upload_file(source, ARTIFACTS_BUCKET, DATASET_KEY)
    print(f"uploaded {source} to {DATA_URI}")


def cpu_resources() -> dict:
    from portway.config import DEFAULT_RESOURCES

    return {step: dataclasses.replace(spec, gpu=0, node_pool=None, cpu="1", cpu_limit="2")
            if spec.gpu or spec.node_pool else spec for step, spec in DEFAULT_RESOURCES.items()}


def compile_for_kind(image: str, endpoint: str, secret: str, namespace: str) -> str:
    import yaml
    from portway.pipelines.continuous_training import build_pipeline

    from portway.compile.argo import ArgoOptions, compile_argo

    pipeline = build_pipeline(resources=cpu_resources())
    options = ArgoOptions(image=image, kind="Workflow", namespace=namespace, s3_endpoint=endpoint, s3_secret=secret,
                          artifact_root=ARTIFACT_ROOT,
                          parameters={"data_uri": DATA_URI, "registry_root": REGISTRY_ROOT, "gpus": 0})
    return yaml.safe_dump(compile_argo(pipeline, options), sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("upload-data")
    compile_parser = sub.add_parser("compile")
    compile_parser.add_argument("--image", required=True)
    compile_parser.add_argument("--endpoint", required=True, help="MinIO's URL inside the cluster")
    compile_parser.add_argument("--secret", required=True, help="Secret holding AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    compile_parser.add_argument("--namespace", default="portway")
    args = parser.parse_args(argv)
    if args.command == "upload-data":
        upload_data()
    else:
        sys.stdout.write(compile_for_kind(args.image, args.endpoint, args.secret, args.namespace))
    return 0


if __name__ == "__main__":
    sys.exit(main())
