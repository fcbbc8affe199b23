"""process component: validate and split a dataset. Logic: portway.steps.process."""

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Output

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def process(
    data_uri: str,
    data_fingerprint: str,
    target: str,
    feature_types: str,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    train_data: Output[Dataset],
    validation_data: Output[Dataset],
    test_data: Output[Dataset],
    profile: Output[Artifact],
    workers: int = 1,
):
    """Read CSV/Parquet (local or s3://), validate it, write stratified Parquet splits and a profile.

    `data_fingerprint` (the content hash) is an input so that the cache key changes when
    the file's content does, even at the same URI. With workers > 1 each split is a directory
    of that many Parquet shards, one per training worker.
    """
    from portway.steps.exit_codes import exit_codes
    from portway.steps.process import process_dataset

    with exit_codes():
        result = process_dataset(
            data_uri=data_uri,
            target=target,
            train_path=train_data.path,
            validation_path=validation_data.path,
            test_path=test_data.path,
            profile_path=profile.path,
            feature_types=feature_types,
            validation_fraction=validation_fraction,
            test_fraction=test_fraction,
            seed=seed,
            shards=workers,
        )
    for artifact, split in ((train_data, "train"), (validation_data, "validation"), (test_data, "test")):
        artifact.metadata.update({"rows": result["splits"][split], "format": "parquet", "shards": workers})
    profile.metadata.update(
        {"rows": result["rows"], "classes": result["classes"], "data_uri": data_uri,
         "data_sha256": data_fingerprint}
    )


# Checked before a local run starts, with the inputs known then (portway.steps.preflight).
process.portway_check = "portway.steps.preflight:process"
