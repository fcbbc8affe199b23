"""A realistic synthetic tabular dataset: customer churn.

Numeric and categorical features, missing values, class imbalance (about 1 in 4 churn),
a signal that XGBoost can learn but not perfectly (test AUC near 0.85). Rows are generated
in seeded chunks and written as they are made, so 10 million rows need only one chunk in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

CHUNK_ROWS = 250_000

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENT_METHODS = ["electronic-check", "mailed-check", "bank-transfer", "credit-card"]
INTERNET = ["dsl", "fiber", "none"]
REGIONS = ["north", "south", "east", "west", "central"]


def _chunk(rows: int, seed: int, index: int):
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng([seed, index])
    tenure = rng.integers(0, 73, rows)
    contract = rng.choice(3, rows, p=[0.55, 0.25, 0.20])
    payment = rng.choice(4, rows, p=[0.35, 0.2, 0.22, 0.23])
    internet = rng.choice(3, rows, p=[0.35, 0.45, 0.20])
    monthly = np.round(np.clip(rng.normal(65, 25, rows) + 20 * (internet == 1) - 25 * (internet == 2), 18, 130), 2)
    total = np.round(monthly * tenure * rng.normal(1.0, 0.05, rows), 2)
    support_calls = rng.poisson(1.4, rows)
    age = rng.integers(18, 86, rows).astype("float64")
    region = rng.choice(5, rows)
    paperless = rng.integers(0, 2, rows)

    logit = (
        -2.3
        + 1.8 * (contract == 0)
        - 1.4 * (contract == 2)
        - 0.05 * tenure
        + 0.02 * (monthly - 65)
        + 0.6 * support_calls
        + 0.9 * (internet == 1)
        + 0.7 * (payment == 0)
        + 0.4 * paperless
        - 0.01 * (age - 45)
        + 0.3 * (region == 4)
        + rng.normal(0, 0.3, rows)
    )
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64")

    # Missing values, as real exports have them.
    total_missing = rng.random(rows) < 0.02
    age_missing = rng.random(rows) < 0.03
    age[age_missing] = np.nan

    def categorical(values, names, missing_share=0.0):
        arr = np.array(names, dtype=object)[values]
        if missing_share:
            arr[rng.random(rows) < missing_share] = None
        return pa.array(arr, type=pa.string())

    return pa.table(
        {
            "tenure_months": pa.array(tenure, pa.int64()),
            "monthly_charges": pa.array(monthly),
            "total_charges": pa.array(total, mask=total_missing),
            "contract": categorical(contract, CONTRACTS),
            "payment_method": categorical(payment, PAYMENT_METHODS, 0.01),
            "internet_service": categorical(internet, INTERNET),
            "support_calls": pa.array(support_calls, pa.int64()),
            "age": pa.array(age, mask=age_missing),
            "region": categorical(region, REGIONS),
            "paperless_billing": pa.array(paperless, pa.int64()),
            "churned": pa.array(churned),
        }
    )


def generate(path: str | os.PathLike, rows: int, seed: int = 7) -> Path:
    """Write `rows` rows to `path` (.csv or .parquet), atomically. Returns the path."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from portway.errors import ParameterError

    if rows < 1:
        raise ParameterError(f"--rows must be at least 1, got {rows}.")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ParameterError(f"Output {path} must end in .csv or .parquet, got {suffix or 'no suffix'!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    writer = None
    try:
        done, index = 0, 0
        while done < rows:
            table = _chunk(min(CHUNK_ROWS, rows - done), seed, index)
            if writer is None:
                writer = (
                    pacsv.CSVWriter(str(tmp), table.schema)
                    if suffix == ".csv"
                    else pq.ParquetWriter(str(tmp), table.schema)
                )
            writer.write_table(table)
            done += table.num_rows
            index += 1
        writer.close()
        writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    return path
