"""process: read, validate and split a tabular dataset (SageMaker's ProcessingStep).

The file is read in Arrow record batches and each batch is validated, encoded and appended
to one of three Parquet writers as it arrives, so memory holds one batch (plus the small
category vocabularies) however large the file is. The split is stratified on the target and
seeded: per class, each batch sends exactly the share that keeps the running totals at the
requested fractions, and which rows go where is a seeded permutation inside the batch.

Outputs are written under temporary names and renamed only when the whole file has passed
validation, so a bad file leaves no half-written split behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from portway.errors import InputDataError, ParameterError
from portway.fileio import write_json_atomic

NUMERIC = "numeric"
CATEGORICAL = "categorical"
FEATURE_TYPES = (NUMERIC, CATEGORICAL)

# Arrow's CSV reader hands out batches of about this many bytes; it bounds peak memory.
CSV_BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 262_144
# Values read as missing (null) in a CSV, besides the empty string.
NULL_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
_BAD_TARGET_TOKENS = {"nan", "inf", "+inf", "-inf", "infinity", "-infinity", "+infinity"}


@dataclass
class _ColumnState:
    name: str
    kind: str
    missing: int = 0
    vocabulary: dict[str, int] = field(default_factory=dict)


def empty_input_error(data_uri: str) -> InputDataError:
    return InputDataError(f"{data_uri} is empty (0 bytes); expected a CSV or Parquet file with a header row.")


def parse_feature_types(spec: str | dict | None) -> dict[str, str]:
    """Declared feature types: a dict or a JSON object {"column": "numeric"|"categorical"}."""
    if spec in (None, "", "{}"):
        return {}
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise ParameterError(
                f"feature_types must be a JSON object like {{\"age\": \"numeric\"}}, got {spec!r} ({exc.msg})."
            ) from None
    if not isinstance(spec, dict):
        raise ParameterError(f"feature_types must be a JSON object, got {type(spec).__name__}.")
    for column, kind in spec.items():
        if kind not in FEATURE_TYPES:
            raise ParameterError(
                f"feature_types[{column!r}] is {kind!r}; expected one of {', '.join(FEATURE_TYPES)}."
            )
    return dict(spec)


def validate_fractions(validation_fraction: float, test_fraction: float) -> None:
    for name, value in (("validation_fraction", validation_fraction), ("test_fraction", test_fraction)):
        if not (0 < value < 1):
            raise ParameterError(f"{name} must be between 0 and 1 (exclusive), got {value}.")
    if validation_fraction + test_fraction >= 0.9:
        raise ParameterError(
            f"validation_fraction + test_fraction = {validation_fraction + test_fraction:.2f} leaves too "
            "little for training; keep the sum below 0.9."
        )


@contextlib.contextmanager
def materialize(data_uri: str):
    """Yield a local path for `data_uri`, downloading an s3:// object to a temp file."""
    if data_uri.startswith("s3://"):
        from portway.objectstore import s3_client, s3_read_error, split_s3_uri

        bucket, key = split_s3_uri(data_uri)
        suffix = "".join(Path(key).suffixes[-2:])
        with tempfile.TemporaryDirectory(prefix="portway-data-") as tmp:
            local = Path(tmp) / f"input{suffix}"
            try:
                s3_client().download_file(bucket, key, str(local))
            except Exception as exc:  # botocore raises several unrelated types here
                raise s3_read_error(exc, data_uri, bucket, key) from None  # an outage exits 1, a missing object 2
            yield local
        return
    if "://" in data_uri:
        raise InputDataError(f"Input data URI {data_uri!r} is not supported: use a local path or s3://bucket/key.")
    path = Path(data_uri).expanduser()
    if not path.exists():
        raise InputDataError(f"Input data file {data_uri} does not exist.")
    if not path.is_file():
        raise InputDataError(f"Input data {data_uri} is a directory; expected a CSV or Parquet file.")
    yield path


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    with open(path, "rb") as f:
        return "parquet" if f.read(4) == b"PAR1" else "csv"


def _read_csv_header(path: Path, source: str, delimiter: str) -> list[str]:
    import csv
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as f:
            first = f.readline()
    except UnicodeDecodeError as exc:
        raise InputDataError(
            f"{source}: the header row is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at "
            f"offset {exc.start}); save the file as UTF-8."
        ) from None
    if not first.strip():
        raise InputDataError(f"{source}: the first line is empty; expected a header row naming the columns.")
    header = next(csv.reader([first], delimiter=delimiter))
    if len(header) == 1:
        for candidate, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if candidate in header[0] and candidate != delimiter:
                raise InputDataError(
                    f"{source}: the header has a single column {header[0][:60]!r}, but the file looks "
                    f"{name}-delimited; expected {delimiter!r}-separated columns. Convert the file or pass "
                    f"the delimiter ({candidate!r})."
                )
    return [h.strip() for h in header]


def _check_columns(columns: list[str], target: str, declared: dict[str, str], source: str) -> None:
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise InputDataError(f"{source}: column names must be unique; {duplicates} appear more than once.")
    if target not in columns:
        raise InputDataError(
            f"{source}: target column {target!r} is missing; the file has columns {columns[:30]}."
        )
    unknown = sorted(set(declared) - set(columns))
    if unknown:
        raise InputDataError(f"{source}: feature_types declares {unknown}, which the file does not have.")
    if target in declared:
        raise ParameterError(f"feature_types declares the target column {target!r}; declare features only.")
    if len(columns) < 2:
        raise InputDataError(f"{source}: the file has only the target column; expected at least one feature.")


def _arrow_kind(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_boolean(arrow_type):
        return NUMERIC
    if pa.types.is_null(arrow_type) or pa.types.is_decimal(arrow_type):
        return NUMERIC
    return CATEGORICAL


def _explain_arrow_error(exc: Exception, source: str, columns: list[str], kinds: dict[str, str]) -> InputDataError:
    text = str(exc)
    column_match = re.search(r"column #(\d+)", text)
    row_match = re.search(r"[Rr]ow #(\d+)", text)
    value_match = re.search(r"invalid value '([^']*)'", text)
    if column_match and value_match:
        name = columns[int(column_match.group(1))]
        where = f" at data row {row_match.group(1)}" if row_match else ""
        return InputDataError(
            f"{source}: column {name!r} is {kinds.get(name, NUMERIC)} but holds {value_match.group(1)[:40]!r}{where}, "
            "which is not a number. Fix the value, or declare the column categorical in feature_types."
        )
    expected = re.search(r"Expected (\d+) columns, got (\d+)", text)
    if expected:
        return InputDataError(
            f"{source}: a row has {expected.group(2)} fields where the header has {expected.group(1)} columns "
            f"({text.splitlines()[-1][:120]}). Check the delimiter and quoting."
        )
    return InputDataError(f"{source}: cannot be parsed as a table: {text.splitlines()[0][:200]}")


def _header_columns(path: Path, fmt: str, source: str, delimiter: str) -> list[str]:
    """Column names from a CSV header or a Parquet schema, without reading the data."""
    if fmt == "parquet":
        import pyarrow as pa  # only here: a CSV header needs no Arrow, and a run's preflight stays light
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputDataError(f"{source}: not a readable Parquet file ({exc}).") from None
    return _read_csv_header(path, source, delimiter)


def check_input_header(
    data_uri: str, target: str, feature_types: str | dict | None = None, delimiter: str = ","
) -> None:
    """The checks that need only the first line of a local file: it exists, is not empty,
    has the delimiter, the target and the declared columns. Run before a pipeline starts, so
    the common mistakes fail at once instead of inside a retried step. (s3:// is left to the
    step, which downloads the object anyway.)"""
    if data_uri.startswith("s3://"):
        return
    declared = parse_feature_types(feature_types)
    with materialize(data_uri) as local:
        if local.stat().st_size == 0:
            raise empty_input_error(data_uri)
        fmt = detect_format(local)
        _check_columns(_header_columns(local, fmt, data_uri, delimiter), target, declared, data_uri)


def _open_batches(path: Path, fmt: str, source: str, target: str, declared: dict[str, str], delimiter: str):
    """Return (column names, kinds per feature, iterator over record batches)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt == "parquet":
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputDataError(f"{source}: not a readable Parquet file ({exc}).") from None
        schema = parquet.schema_arrow
        columns = list(schema.names)
        _check_columns(columns, target, declared, source)
        kinds = {c: declared.get(c, _arrow_kind(schema.field(c).type)) for c in columns if c != target}
        return columns, kinds, parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)

    columns = _read_csv_header(path, source, delimiter)
    _check_columns(columns, target, declared, source)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    # Arrow gets the header as parsed above (trimmed), so both agree on every column's name.
    read = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, column_names=columns, skip_rows=1)
    # Infer from the first block only, then pin every column's type, so a later block
    # cannot change a column's type under us (an int column meeting "3.5", say).
    try:
        probe = pacsv.open_csv(path, read_options=read, parse_options=parse,
                               convert_options=pacsv.ConvertOptions(null_values=NULL_TOKENS, strings_can_be_null=True))
        schema = probe.schema
        try:
            first_block = probe.read_next_batch()
        except StopIteration:
            first_block = None
        probe.close()
    except pa.ArrowInvalid as exc:
        raise _explain_arrow_error(exc, source, columns, {}) from None
    kinds = {}
    for c in columns:
        if c == target:
            continue
        kind = declared.get(c, _arrow_kind(schema.field(c).type))
        if c not in declared and kind == CATEGORICAL and first_block is not None and _mostly_numbers(first_block.column(c)):
            kind = NUMERIC  # a numeric column with a stray word: refuse the word below, do not call it a category
        kinds[c] = kind
    column_types = {c: (pa.float64() if k == NUMERIC else pa.string()) for c, k in kinds.items()}
    column_types[target] = pa.string()
    convert = pacsv.ConvertOptions(column_types=column_types, null_values=NULL_TOKENS, strings_can_be_null=True)
    try:
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise _explain_arrow_error(exc, source, columns, kinds) from None

    def batches():
        try:
            yield from reader
        except pa.ArrowInvalid as exc:
            raise _explain_arrow_error(exc, source, columns, kinds) from None

    return columns, kinds, batches()


# A text column whose values are at least this share numbers is a numeric column with bad cells.
MOSTLY_NUMERIC_SHARE = 0.9


def _mostly_numbers(column) -> bool:
    import pyarrow as pa

    values = [v for v in column.drop_null().unique().to_pylist()] if pa.types.is_string(column.type) else []
    if not values:
        return False
    numbers = sum(_is_number(v) for v in values)
    return numbers < len(values) and numbers / len(values) >= MOSTLY_NUMERIC_SHARE


def _canonical_label(value: str) -> str:
    """'1', '1.0' and ' 1 ' are one class; other labels are kept as written (trimmed)."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return text


def _encode_target(column, source: str, target: str, first_row: int):
    """Target labels of a batch as canonical strings; refuses missing, NaN and inf."""
    import pyarrow as pa
    import pyarrow.compute as pc

    labels = column.cast(pa.string()) if not pa.types.is_string(column.type) else column
    if labels.null_count:
        row = first_row + pc.index(pc.is_null(labels), True).as_py() + 1
        raise InputDataError(
            f"{source}: target column {target!r} is missing (empty or NaN) at data row {row}; every row "
            "needs a label. Drop or fix those rows."
        )
    encoded = labels.dictionary_encode()
    dictionary = [_canonical_label(v) for v in encoded.dictionary.to_pylist()]
    fractional = [v for v in dictionary if _is_number(v) and math.isfinite(float(v)) and float(v) != int(float(v))]
    if fractional and all(_is_number(v) for v in dictionary):
        # A measurement, not a class: every distinct value would become a class of its own.
        first_hit = pc.index(encoded.indices, dictionary.index(fractional[0])).as_py()
        raise InputDataError(
            f"{source}: target column {target!r} is not categorical: it holds continuous numbers (e.g. "
            f"{fractional[0]!r} at data row {first_row + first_hit + 1}); a classifier needs class labels such "
            "as 0/1 or yes/no. Choose a categorical column with --target."
        )
    for position, label in enumerate(dictionary):
        if label.lower() in _BAD_TARGET_TOKENS:
            first_hit = pc.index(encoded.indices, position).as_py()
            raise InputDataError(
                f"{source}: target column {target!r} holds {label!r} at data row {first_row + first_hit + 1}; "
                "expected a finite class label (NaN and inf are not classes)."
            )
    return dictionary, encoded.indices.to_numpy(zero_copy_only=False)


def _encode_feature(column, state: _ColumnState):
    """A feature as float32: numbers as they are (inf read as missing), categories as codes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if state.kind == NUMERIC:
        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            try:
                column = column.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                bad = next(v for v in column.to_pylist() if v is not None and not _is_number(v))
                raise ValueError(bad) from None
        values = column.to_numpy(zero_copy_only=False).astype(np.float32)
        values[~np.isfinite(values)] = np.nan  # inf is treated as missing, like an empty cell
        state.missing += int(np.isnan(values).sum())
        return values

    as_text = column if pa.types.is_string(column.type) else column.cast(pa.string())
    as_text = pc.if_else(pc.equal(as_text, ""), pa.scalar(None, pa.string()), as_text)  # "" is missing, as in a CSV
    state.missing += as_text.null_count
    encoded = pc.dictionary_encode(as_text)
    lookup = np.empty(len(encoded.dictionary), dtype=np.float32)
    for i, category in enumerate(encoded.dictionary.to_pylist()):
        lookup[i] = state.vocabulary.setdefault(category, len(state.vocabulary))
    indices = encoded.indices
    codes = np.full(len(indices), np.nan, dtype=np.float32)
    valid = ~np.asarray(pc.is_null(indices).to_numpy(zero_copy_only=False))
    codes[valid] = lookup[indices.drop_null().to_numpy()]
    return codes


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


class _StratifiedSplitter:
    """Assigns each row to train/validation/test, keeping exact per-class running shares."""

    def __init__(self, validation_fraction: float, test_fraction: float, seed: int):
        self.fractions = (test_fraction, validation_fraction)
        self.seed = seed
        self.seen: dict[str, int] = {}

    def assign(self, labels: list[str], codes, batch_index: int):
        import numpy as np

        rng = np.random.default_rng([self.seed, batch_index])
        assignment = np.zeros(len(codes), dtype=np.int8)  # 0 train, 1 validation, 2 test
        for code, label in enumerate(labels):
            rows = np.flatnonzero(codes == code)
            if rows.size == 0:
                continue
            before = self.seen.get(label, 0)
            after = before + rows.size
            self.seen[label] = after
            n_test = round(after * self.fractions[0]) - round(before * self.fractions[0])
            n_val = round(after * self.fractions[1]) - round(before * self.fractions[1])
            rng.shuffle(rows)
            assignment[rows[:n_test]] = 2
            assignment[rows[n_test : n_test + n_val]] = 1
        return assignment


def process_dataset(
    data_uri: str,
    target: str,
    train_path: str,
    validation_path: str,
    test_path: str,
    profile_path: str,
    feature_types: str | dict | None = None,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 42,
    delimiter: str = ",",
    shards: int = 1,
) -> dict:
    """Validate `data_uri` and write stratified train/validation/test splits as Parquet.

    With `shards > 1` each split is a directory of that many Parquet files, one per training
    worker (see portway.steps.shards).

    Features are written as float32 (categories as integer codes, recorded with their
    vocabulary in the profile) and the target as its canonical label string. Returns the
    data profile, which is also written to `profile_path` as JSON.
    """
    import numpy as np
    import pyarrow as pa

    from portway.steps.shards import ShardDealer, SplitWriters

    if not target:
        raise ParameterError("target must name the label column, got an empty string.")
    declared = parse_feature_types(feature_types)
    validate_fractions(validation_fraction, test_fraction)

    outputs = {"train": Path(train_path), "validation": Path(validation_path), "test": Path(test_path)}
    dealer = ShardDealer(shards)
    split_rows = dict.fromkeys(outputs, 0)
    class_counts: dict[str, int] = {}

    with materialize(data_uri) as local:
        source = data_uri
        size = local.stat().st_size
        if size == 0:
            raise empty_input_error(source)
        fmt = detect_format(local)
        columns, kinds, batches = _open_batches(local, fmt, source, target, declared, delimiter)
        features = [c for c in columns if c != target]
        states = {c: _ColumnState(c, kinds[c]) for c in features}
        schema = pa.schema([(c, pa.float32()) for c in features] + [(target, pa.string())])
        splitter = _StratifiedSplitter(validation_fraction, test_fraction, seed)
        writers = SplitWriters(outputs, schema, shards)
        rows = 0
        try:
            for batch_index, batch in enumerate(batches):
                if batch.num_rows == 0:
                    continue
                labels, codes = _encode_target(batch.column(target), source, target, rows)
                encoded = {}
                for name in features:
                    try:
                        encoded[name] = _encode_feature(batch.column(name), states[name])
                    except ValueError as bad:
                        raise InputDataError(
                            f"{source}: column {name!r} is declared numeric but holds {str(bad)[:40]!r}, which "
                            "is not a number. Fix the value or declare the column categorical."
                        ) from None
                label_array = pa.array(np.array(labels, dtype=object)[codes], pa.string())
                for code, label in enumerate(labels):
                    class_counts[label] = class_counts.get(label, 0) + int((codes == code).sum())
                assignment = splitter.assign(labels, codes, batch_index)
                shard_of_rows = dealer.deal(assignment, labels, codes)
                for split_id, name in enumerate(("train", "validation", "test")):
                    mask = assignment == split_id
                    count = int(mask.sum())
                    if count == 0:
                        continue
                    table = pa.table(
                        [pa.array(encoded[c][mask]) for c in features] + [label_array.filter(pa.array(mask))],
                        schema=schema,
                    )
                    writers.write(name, table, shard_of_rows[mask])
                    split_rows[name] += count
                rows += batch.num_rows

            if rows == 0:
                raise InputDataError(f"{source} has a header but no data rows; expected at least a few hundred rows.")
            if len(class_counts) < 2:
                only = next(iter(class_counts))
                raise InputDataError(
                    f"{source}: target column {target!r} has a single class ({only!r}) in {rows} rows; "
                    "a classifier needs at least two classes."
                )
            empty = [name for name, count in split_rows.items() if count == 0]
            if empty:
                raise InputDataError(
                    f"{source}: {rows} rows are too few to fill the {', '.join(empty)} split(s); "
                    "provide more rows or larger fractions."
                )
            if writers.empty_shards():
                raise InputDataError(
                    f"{source}: {rows} rows are too few to give each of {shards} workers rows of every split "
                    f"(empty: {', '.join(writers.empty_shards()[:6])}); use fewer workers or more rows."
                )
            writers.publish()
        finally:
            writers.discard()

    classes = sorted(class_counts, key=lambda c: (not _is_number(c), float(c) if _is_number(c) else 0, c))
    profile = {
        "source": {"uri": data_uri, "format": fmt, "bytes": size},
        "rows": rows,
        "columns": len(columns),
        "target": target,
        "classes": classes,
        "class_balance": {c: class_counts[c] for c in classes},
        "features": [
            {
                "name": s.name,
                "type": s.kind,
                "missing": s.missing,
                **({"categories": list(s.vocabulary)} if s.kind == CATEGORICAL else {}),
            }
            for s in states.values()
        ],
        "missing_values": {s.name: s.missing for s in states.values()},
        "splits": split_rows,
        **({"shards": writers.rows} if shards > 1 else {}),
        "split": {"seed": seed, "validation_fraction": validation_fraction, "test_fraction": test_fraction,
                  "stratified_on": target},
    }
    write_json_atomic(profile_path, profile)
    return profile

