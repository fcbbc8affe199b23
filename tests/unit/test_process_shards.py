"""process with workers > 1: each split as N Parquet shards, balanced, stratified, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from portway.errors import InputDataError, ParameterError
from portway.steps.process import process_dataset
from portway.steps.shards import shard_name
from portway.steps.splits import load_split

SPLITS = ("train", "validation", "test")


def _run(data, out, shards):
    paths = {name: str(out / name) for name in SPLITS}
    profile = process_dataset(str(data), "churned", paths["train"], paths["validation"], paths["test"],
                              str(out / "profile.json"), shards=shards)
    return paths, profile


@pytest.fixture(scope="module")
def sharded(churn_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("sharded")
    return _run(churn_csv, out, 3)


def test_each_split_is_n_shards_holding_exactly_the_unsharded_rows(sharded, processed):
    paths, profile = sharded
    for split in SPLITS:
        files = sorted(p.name for p in Path(paths[split]).iterdir())
        assert files == [shard_name(i) for i in range(3)]
        whole = pq.read_table(processed[split])
        union = pq.read_table(paths[split])  # a directory of shards reads as one table
        assert union.num_rows == whole.num_rows == profile["splits"][split]
        assert sorted(map(repr, union.to_pylist())) == sorted(map(repr, whole.to_pylist()))  # repr: nan == nan
        assert sum(profile["shards"][split]) == profile["splits"][split]


def test_shards_are_balanced_per_class(sharded):
    paths, profile = sharded
    for split in SPLITS:
        counts = {}
        for i in range(3):
            table = pq.read_table(f"{paths[split]}/{shard_name(i)}")
            for label in profile["classes"]:
                counts.setdefault(label, []).append(pc.sum(pc.equal(table.column("churned"), label)).as_py() or 0)
        for label, per_shard in counts.items():
            assert max(per_shard) - min(per_shard) <= 1, (split, label, per_shard)
        sizes = profile["shards"][split]
        assert max(sizes) - min(sizes) <= len(profile["classes"]), (split, sizes)


def test_a_sharded_split_loads_like_a_file(sharded, processed):
    paths, profile = sharded
    X_dir, y_dir = load_split(paths["test"], profile)
    X_file, y_file = load_split(processed["test"], processed["profile"])
    assert X_dir.shape == X_file.shape and sorted(y_dir) == sorted(y_file)


def test_bad_worker_counts_write_nothing(churn_csv, tmp_path):
    with pytest.raises(ParameterError, match="workers must be a whole number of at least 1, got 0"):
        _run(churn_csv, tmp_path, 0)
    assert list(tmp_path.iterdir()) == []
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("a,churned\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputDataError, match=r"tiny.csv: 40 rows are too few to give each of 30 workers"):
        _run(tiny, out, 30)
    assert list(out.iterdir()) == []  # no shard directory, no .partial left behind
