"""MLServer's XGBoost runtime with the request checked against the model's feature schema.

The stock `mlserver_xgboost.XGBoostModel` (what KServe runs for `modelFormat: xgboost` on the
V2 protocol) answers 500 to a request with the wrong number of features or a string among
the numbers: the error surfaces from inside XGBoost. This subclass checks the request first
and answers 400 with a message naming the input, row and feature; the outputs are the
stock runtime's.

The model is loaded as an `xgboost.Booster` rather than through XGBoost's scikit-learn
wrapper (`XGBRegressor`), which the stock runtime uses and which needs scikit-learn installed.
KServe's MLServer image ships scikit-learn; Portway does not depend on it, because XGBoost
imports it whenever it is present and that cost ~1.7 s in every pipeline step. For a
`binary:logistic` or `multi:softprob` model, `Booster.predict` returns exactly what
`XGBRegressor.predict` returns (the probabilities), so the answers are the same.

Two request layouts are accepted, both in the order `feature_schema.json` records:
- one tensor of shape [rows, F] (any name), row-major `data`, flat or nested;
- one tensor per feature, named after the features (any order), each of shape [rows] or [rows, 1].
`null` is a missing value (JSON has no NaN); XGBoost routes it as it learned to in training.
"""

from __future__ import annotations

import json
import os

from mlserver.codecs import NumpyCodec
from mlserver.errors import MLServerError
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri
from mlserver_xgboost import XGBoostModel
from mlserver_xgboost.xgboost import WELLKNOWN_MODEL_FILENAMES

FEATURE_SCHEMA_FILE = "feature_schema.json"
NUMERIC_DATATYPES = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
                     "FP16", "FP32", "FP64"}
# How many offending values one error message lists; the rest are counted.
MAX_REPORTED = 3


class InvalidRequest(MLServerError):
    """A request the model cannot take; the client's to fix (HTTP 400)."""

    def __init__(self, message: str):
        super().__init__(message, status_code=400)


def _flatten(data) -> list:
    if isinstance(data, list):
        return [value for item in data for value in _flatten(item)]
    return [data]


def _is_number(value) -> bool:
    # bool is an int in Python, but `true` is not a feature value.
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _check_values(name: str, values: list, what) -> None:
    bad = [(i, v) for i, v in enumerate(values) if not _is_number(v)]
    if not bad:
        return
    shown = "; ".join(f"{what(i)} is {v!r}" for i, v in bad[:MAX_REPORTED])
    more = f" (and {len(bad) - MAX_REPORTED} more)" if len(bad) > MAX_REPORTED else ""
    raise InvalidRequest(
        f"Input {name!r} has non-numeric values: {shown}{more}. Send numbers, with categorical features "
        "as their category codes (see `portway models show GROUP:VERSION --format md`) and null for a missing value."
    )


def _rows_of(shape: list[int], name: str) -> int:
    if not shape or shape[0] < 1:
        raise InvalidRequest(f"Input {name!r} has shape {shape}; expected [rows, ...] with at least one row.")
    return shape[0]


def feature_matrix(inputs: list, feature_names: list[str]):
    """The float32 [rows, F] matrix a V2 request's inputs describe, or InvalidRequest saying why not.

    `inputs` are mlserver RequestInput objects (name, shape, datatype, data)."""
    import numpy as np

    width = len(feature_names)
    if not inputs:
        raise InvalidRequest(f"The request has no inputs; expected one tensor of shape [rows, {width}].")
    for tensor in inputs:
        datatype = getattr(tensor.datatype, "value", tensor.datatype)
        if datatype not in NUMERIC_DATATYPES:
            raise InvalidRequest(f"Input {tensor.name!r} has datatype {datatype}; expected a numeric one "
                                 "such as FP32 or FP64.")

    if len(inputs) == 1 and inputs[0].name not in feature_names:
        tensor = inputs[0]
        shape = list(tensor.shape)
        if len(shape) != 2 or shape[1] != width:
            raise InvalidRequest(
                f"Input {tensor.name!r} has shape {shape}, but this model takes {width} features per row: "
                f"expected shape [rows, {width}] with the features in this order: {', '.join(feature_names)}."
            )
        rows = _rows_of(shape, tensor.name)
        values = _flatten(tensor.data.root)
        if len(values) != rows * width:
            raise InvalidRequest(f"Input {tensor.name!r} declares shape {shape} ({rows * width} values) but "
                                 f"carries {len(values)} values.")
        _check_values(tensor.name, values,
                      lambda i: f"row {i // width}, feature {feature_names[i % width]!r}")
        matrix = np.array([np.nan if v is None else v for v in values], dtype=np.float32).reshape(rows, width)
        return _check_finite(matrix, tensor.name, feature_names)

    by_name = {tensor.name: tensor for tensor in inputs}
    unknown = sorted(set(by_name) - set(feature_names))
    missing = [name for name in feature_names if name not in by_name]
    if unknown or missing or len(by_name) != len(inputs):
        raise InvalidRequest(
            f"The request's inputs {sorted(by_name)} do not match the model's features. Send either one tensor "
            f"of shape [rows, {width}] or one tensor per feature named: {', '.join(feature_names)}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else "") + "."
        )
    columns, rows = [], None
    for name in feature_names:
        tensor = by_name[name]
        shape = list(tensor.shape)
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
            raise InvalidRequest(f"Input {name!r} has shape {shape}; a per-feature input is [rows] or [rows, 1].")
        count = _rows_of(shape, name)
        if rows is not None and count != rows:
            raise InvalidRequest(f"Input {name!r} has {count} rows but the other features have {rows}.")
        rows = count
        values = _flatten(tensor.data.root)
        if len(values) != rows:
            raise InvalidRequest(f"Input {name!r} declares {rows} rows but carries {len(values)} values.")
        _check_values(name, values, lambda i: f"row {i}")
        columns.append([np.nan if v is None else v for v in values])
    return _check_finite(np.array(columns, dtype=np.float32).T.reshape(rows, width), "features", feature_names)


def _check_finite(matrix, name: str, feature_names: list[str]):
    import numpy as np

    infinite = np.argwhere(np.isinf(matrix))
    if len(infinite):
        row, column = (int(i) for i in infinite[0])
        raise InvalidRequest(f"Input {name!r}: row {row}, feature {feature_names[column]!r} is too large for "
                             f"FP32 ({len(infinite)} such values); the model takes values within ±3.4e38.")
    return matrix


class BoosterPredictor:
    """The two methods the runtime calls, over a plain Booster (no scikit-learn needed)."""

    def __init__(self, booster, feature_names: list[str]):
        self.booster = booster
        self.feature_names = feature_names

    def predict(self, features):
        import xgboost as xgb

        return self.booster.predict(xgb.DMatrix(features, feature_names=self.feature_names))

    def predict_proba(self, features):
        import numpy as np

        predicted = self.predict(features)
        return np.column_stack([1 - predicted, predicted]) if predicted.ndim == 1 else predicted


class ValidatingXGBoostModel(XGBoostModel):
    """mlserver_xgboost's runtime, with requests checked against feature_schema.json."""

    async def load(self) -> bool:
        from portway.steps.train import load_booster

        model_uri = await get_model_uri(self._settings, wellknown_filenames=WELLKNOWN_MODEL_FILENAMES)
        schema_path = os.path.join(os.path.dirname(model_uri), FEATURE_SCHEMA_FILE)
        with open(schema_path) as f:
            self._feature_names = list(json.load(f)["feature_names"])
        # model.json only, through the one loader the no-pickle test allows.
        self._model = BoosterPredictor(load_booster(os.path.dirname(model_uri)), self._feature_names)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        payload = self._check_request(payload)
        features = feature_matrix(payload.inputs, self._feature_names)
        outputs = []
        for request_output in payload.outputs:  # `predict` unless the client asked for more
            predicted = getattr(self._model, request_output.name)(features)
            outputs.append(self.encode(predicted, request_output, default_codec=NumpyCodec))
        return InferenceResponse(model_name=self.name, model_version=self.version, outputs=outputs)
