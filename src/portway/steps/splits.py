"""Reading the Parquet splits that `process` writes, as model-ready arrays."""

from __future__ import annotations


def feature_names(profile: dict) -> list[str]:
    return [f["name"] for f in profile["features"]]


def load_split(path: str, profile: dict):
    """(X float32 [rows, features], y int class indices) of one split."""
    import numpy as np
    import pyarrow.parquet as pq

    names = feature_names(profile)
    table = pq.read_table(path)
    X = np.empty((table.num_rows, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        X[:, j] = table.column(name).to_numpy()
    index = {label: i for i, label in enumerate(profile["classes"])}
    labels = table.column(profile["target"]).to_pylist()
    try:
        y = np.fromiter((index[label] for label in labels), dtype=np.int32, count=len(labels))
    except KeyError as exc:
        from portway.errors import InputDataError

        raise InputDataError(f"{path}: label {exc.args[0]!r} is not among the profile's classes {profile['classes']}.") from None
    return X, y
