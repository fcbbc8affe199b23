"""process: splitting, profiling, and every bad input the issue lists."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from portway.errors import InputDataError, ParameterError
from portway.steps.process import process_dataset


def run(tmp_path: Path, source, target="churned", **kwargs):
    out = tmp_path / "out"
    return process_dataset(str(source), target, str(out / "train.parquet"), str(out / "validation.parquet"),
                           str(out / "test.parquet"), str(out / "profile.json"), **kwargs)


def assert_nothing_written(tmp_path: Path):
    out = tmp_path / "out"
    leftovers = [p.name for p in out.iterdir()] if out.exists() else []
    assert leftovers == [], f"a failed process left files behind: {leftovers}"


def test_split_is_stratified_seeded_and_complete(processed):
    profile = processed["profile"]
    rows = {name: pq.read_metadata(processed[name]).num_rows for name in ("train", "validation", "test")}
    assert sum(rows.values()) == profile["rows"] == 2000
    assert rows == profile["splits"]
    assert abs(rows["test"] - 300) <= 2 and abs(rows["validation"] - 300) <= 2
    overall = profile["class_balance"]["1"] / profile["rows"]
    for name in ("train", "validation", "test"):
        labels = pq.read_table(processed[name], columns=["churned"]).column(0).to_pylist()
        share = labels.count("1") / len(labels)
        assert abs(share - overall) < 0.01, (name, share, overall)


def test_profile_describes_columns_and_missing_values(processed):
    profile = json.loads(Path(processed["profile_path"]).read_text())
    kinds = {f["name"]: f["type"] for f in profile["features"]}
    assert kinds["contract"] == "categorical" and kinds["tenure_months"] == "numeric"
    assert profile["missing_values"]["age"] > 0 and profile["missing_values"]["total_charges"] > 0
    assert sorted(next(f for f in profile["features"] if f["name"] == "contract")["categories"]) == [
        "month-to-month", "one-year", "two-year"]
    assert profile["classes"] == ["0", "1"]


def test_same_seed_same_split_other_seed_other_split(churn_csv, tmp_path):
    a = run(tmp_path / "a", churn_csv, seed=1)
    b = run(tmp_path / "b", churn_csv, seed=1)
    run(tmp_path / "c", churn_csv, seed=2)
    read = lambda root: pq.read_table(root / "out" / "test.parquet").to_pandas()  # noqa: E731
    assert a == b and read(tmp_path / "a").equals(read(tmp_path / "b"))  # pandas equals: NaN == NaN
    assert not read(tmp_path / "a").equals(read(tmp_path / "c"))


def test_parquet_input_gives_the_same_profile(churn_csv, tmp_path):
    import pyarrow.csv as pacsv

    parquet = tmp_path / "churn.parquet"
    pq.write_table(pacsv.read_csv(churn_csv), parquet)
    from_csv = run(tmp_path / "csv", churn_csv)
    from_parquet = run(tmp_path / "pq", parquet)
    assert from_parquet["class_balance"] == from_csv["class_balance"]
    assert from_parquet["missing_values"] == from_csv["missing_values"]


def test_multiclass_and_string_labels(tmp_path):
    source = tmp_path / "iris.csv"
    rows = ["sepal,petal,species"] + [f"{i % 7}.5,{i % 5},{['setosa', 'versicolor', 'virginica'][i % 3]}"
                                      for i in range(300)]
    source.write_text("\n".join(rows) + "\n")
    profile = run(tmp_path, source, target="species")
    assert profile["classes"] == ["setosa", "versicolor", "virginica"]
    assert all(v == 100 for v in profile["class_balance"].values())


def test_declared_types_are_applied(churn_csv, tmp_path):
    profile = run(tmp_path, churn_csv, feature_types='{"support_calls": "categorical"}')
    kinds = {f["name"]: f["type"] for f in profile["features"]}
    assert kinds["support_calls"] == "categorical"


# -- bad input: each names the problem, exits through InputDataError, writes nothing --------

BAD_CSV = {
    "empty file": ("", "is empty"),
    "header only": ("a,b,churned\n", "no data rows"),
    "target missing": ("a,b,label\n1,2,0\n3,4,1\n", "target column 'churned' is missing"),
    "one class": ("a,b,churned\n" + "".join(f"{i},{i},1\n" for i in range(50)), "single class ('1')"),
    "garbage in numeric": ("a,b,churned\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(50)) + "7,abc,0\n",
                           "column 'b' is numeric but holds 'abc'"),
    "nan target": ("a,b,churned\n1,2,0\n3,4,1\n5,6,nan\n", "target column 'churned' is missing (empty or NaN) at data row 3"),
    "inf target": ("a,b,churned\n1,2,0\n3,4,1\n5,6,inf\n", "holds 'inf' at data row 3"),
    "empty target": ("a,b,churned\n1,2,0\n3,4,\n", "at data row 2"),
    "wrong delimiter": ("a;b;churned\n1;2;0\n3;4;1\n", "semicolon-delimited"),
    "ragged row": ("a,b,churned\n1,2,0\n3,4,1,9\n", "fields where the header has 3 columns"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_is_refused_with_a_clear_message(case, tmp_path):
    content, expected = BAD_CSV[case]
    source = tmp_path / "input.csv"
    source.write_text(content)
    with pytest.raises(InputDataError) as info:
        run(tmp_path, source)
    assert expected in str(info.value)
    assert str(source) in str(info.value) or case == "empty file" and "is empty" in str(info.value)
    assert_nothing_written(tmp_path)


def test_garbage_deep_in_a_large_file_is_found_and_nothing_is_left(tmp_path):
    source = tmp_path / "big.csv"
    with open(source, "w") as f:
        f.write("a,b,churned\n")
        for i in range(400_000):  # several Arrow blocks: the bad row is far past the first one
            f.write(f"{i},{i * 0.5},{i % 2}\n")
        f.write("1,oops,0\n")
    with pytest.raises(InputDataError, match="column 'b' is numeric but holds 'oops'"):
        run(tmp_path, source)
    assert_nothing_written(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(InputDataError, match="does not exist"):
        run(tmp_path, tmp_path / "nope.csv")


@pytest.mark.parametrize("kwargs, message", [
    ({"validation_fraction": 0.0}, "validation_fraction must be between 0 and 1"),
    ({"test_fraction": 1.5}, "test_fraction must be between 0 and 1"),
    ({"feature_types": '{"a": "text"}'}, "expected one of numeric, categorical"),
    ({"feature_types": "not json"}, "must be a JSON object"),
])
def test_bad_parameters(churn_csv, tmp_path, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        run(tmp_path, churn_csv, **kwargs)


def test_declared_numeric_column_with_text(tmp_path):
    source = tmp_path / "input.csv"
    source.write_text("a,plan,churned\n" + "".join(f"{i},gold,{i % 2}\n" for i in range(20)))
    with pytest.raises(InputDataError, match="column 'plan' is numeric but holds 'gold'"):
        run(tmp_path, source, feature_types='{"plan": "numeric"}')


def test_a_float_target_is_refused_as_not_categorical(tmp_path):
    # Issue 14: `--target x1` (a float column) used to say "1500 rows are too few to fill the splits".
    source = tmp_path / "fraud.csv"
    source.write_text("x1,x2,is_fraud\n" + "".join(f"{i / 7:.4f},{i % 5},{int(i % 5 == 0)}\n" for i in range(1500)))
    with pytest.raises(InputDataError, match=r"target column 'x1' is not categorical: it holds continuous numbers "
                                             r"\(e\.g\. '0\.1429' at data row 2\)"):
        run(tmp_path, source, target="x1")
    assert_nothing_written(tmp_path)
    assert run(tmp_path, source, target="is_fraud")["classes"] == ["0", "1"]  # whole-number labels stay classes
