"""Sharded splits: with `workers > 1`, `process` writes each split as a directory of N Parquet
files, one per training worker, so no worker (and no node) reads the whole dataset.

    <split>/part-00000.parquet ... <split>/part-<N-1>.parquet

A directory of Parquet files is still one table to Arrow (`pq.read_table(dir)`), so `evaluate`
and the single-process `train` read a sharded split as they read a single file.

Rows are dealt to shards round-robin per (split, class), continuing across record batches,
so every shard holds each class's rows to within one row of an equal share (the
stratification of the split is kept) and shard sizes differ by at most one row per class.
"""

from __future__ import annotations

SHARD_PREFIX = "part-"
SHARD_SUFFIX = ".parquet"


def shard_name(index: int) -> str:
    return f"{SHARD_PREFIX}{index:05d}{SHARD_SUFFIX}"


def validate_shards(shards: int) -> None:
    from portway.errors import ParameterError

    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise ParameterError(f"workers must be a whole number of at least 1, got {shards!r}.")


class ShardDealer:
    """Assigns the rows of each batch to shards: round-robin per (split, class label)."""

    def __init__(self, shards: int):
        validate_shards(shards)
        self.shards = shards
        self.dealt: dict[tuple[int, str], int] = {}

    def deal(self, split_ids, labels: list[str], codes):
        """Shard index of every row, given its split (0/1/2) and its class code into `labels`."""
        import numpy as np

        shard = np.zeros(len(codes), dtype=np.int32)
        if self.shards == 1:
            return shard
        for split_id in np.unique(split_ids):
            for code, label in enumerate(labels):
                rows = np.flatnonzero((split_ids == split_id) & (codes == code))
                if rows.size == 0:
                    continue
                key = (int(split_id), label)
                start = self.dealt.get(key, 0)
                shard[rows] = (start + np.arange(rows.size)) % self.shards
                self.dealt[key] = start + rows.size
        return shard


class SplitWriters:
    """The Parquet writers of every split: one file each, or one directory of `shards` files.

    Everything is written under temporary names (`.<name>.partial`) and renamed by
    `publish()` only once the whole input has passed; `discard()` removes whatever a
    failure left behind, so a bad file never leaves a half-written split.
    """

    def __init__(self, outputs: dict, schema, shards: int = 1):
        from pathlib import Path

        validate_shards(shards)
        self.outputs = {name: Path(path) for name, path in outputs.items()}
        self.temps = {name: path.with_name(f".{path.name}.partial") for name, path in self.outputs.items()}
        self.schema = schema
        self.shards = shards
        self.writers: dict[tuple[str, int], object] = {}
        self.rows = {name: [0] * shards for name in self.outputs}

    def _writer(self, name: str, shard: int):
        import pyarrow.parquet as pq

        key = (name, shard)
        if key not in self.writers:
            temp = self.temps[name]
            temp.parent.mkdir(parents=True, exist_ok=True)
            if self.shards > 1:
                temp.mkdir(exist_ok=True)
                temp = temp / shard_name(shard)
            self.writers[key] = pq.ParquetWriter(temp, self.schema)
        return self.writers[key]

    def write(self, name: str, table, shard_of_rows) -> None:
        """Append `table` (rows of split `name`) to the shards `shard_of_rows` names, row by row."""
        import numpy as np
        import pyarrow as pa

        if self.shards == 1:
            self._writer(name, 0).write_table(table)
            self.rows[name][0] += table.num_rows
            return
        for shard in np.unique(shard_of_rows):
            part = table.filter(pa.array(shard_of_rows == shard))
            self._writer(name, int(shard)).write_table(part)
            self.rows[name][int(shard)] += part.num_rows

    def empty_shards(self) -> list[str]:
        return [f"{name} shard {i}" for name, counts in self.rows.items() for i, n in enumerate(counts)
                if n == 0 and self.shards > 1]

    def _close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()

    def publish(self) -> None:
        import os
        import shutil

        self._close()
        for name, path in self.outputs.items():
            if self.shards > 1 and path.is_dir():
                shutil.rmtree(path)  # a rerun into the same output directory
            os.replace(self.temps[name], path)

    def discard(self) -> None:
        import contextlib
        import shutil

        self._close()
        for temp in self.temps.values():
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
