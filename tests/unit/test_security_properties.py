"""Property-based tests (Hypothesis): arbitrary input to the name validator and the CSV reader.

The only outcomes allowed are success or the documented error (ParameterError for a name;
InputDataError or ParameterError for a dataset), and a refused dataset leaves no output
under its final name.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portway.errors import InputDataError, ParameterError
from portway.names import MAX_NAME_LENGTH, validate_name
from portway.objectstore import LocalStore
from portway.steps.process import process_dataset

BOUNDED = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that make names dangerous, mixed with ordinary ones, so that Hypothesis tries
# traversal, separators and control characters far more often than plain random text would.
DANGEROUS = ["..", "../", "/", "\\", "\x00", "\n", "\r", "\t", "\x1b", " ", ".", "~", "%2e", "C:", "\u202e", "é"]
name_pieces = st.lists(st.sampled_from(DANGEROUS) | st.text("abz09._-", min_size=1, max_size=8), max_size=12)
names = st.text() | name_pieces.map("".join) | st.text("a", min_size=60, max_size=70)


def is_safe(name: str) -> bool:
    return (
        0 < len(name) <= MAX_NAME_LENGTH
        and "/" not in name and "\\" not in name and ".." not in name
        and not name.startswith((".", "-", "_"))
        and name.isascii() and name.isprintable() and " " not in name
        and not any(unicodedata.category(c).startswith("C") for c in name)
    )


@BOUNDED
@given(names)
@example("../etc/passwd")
@example("/abs")
@example("abc\n")
@example("a" * (MAX_NAME_LENGTH + 1))
def test_validate_name_returns_a_safe_name_unchanged_or_refuses_it(value):
    try:
        accepted = validate_name(value, "model group")
    except ParameterError as exc:
        assert str(exc).startswith("model group ") and "\n" not in str(exc)
        return
    assert accepted == value and is_safe(value), repr(value)
    # An accepted name stays inside the store root whatever key it becomes part of.
    root = Path(tempfile.gettempdir()) / "portway-names-root"
    store = LocalStore(root)
    for key in (value, f"groups/{value}/versions/00000001.json", f"runs/{value}/summary.json"):
        assert Path(store.uri(key)).is_relative_to(store.root)


@BOUNDED
@given(st.none() | st.integers() | st.binary() | st.lists(st.text()) | st.just(""))
def test_validate_name_refuses_what_is_not_a_non_empty_string(value):
    with pytest.raises(ParameterError, match="run id must be a non-empty string"):
        validate_name(value, "run id")


SPLITS = ("train", "validation", "test")
cells = st.sampled_from(["", "0", "1", "1.5", "-2", "NaN", "inf", "x", '"q,uoted"', "NA", "é", "\x00", "1e999"]) | st.text(
    max_size=6)


@st.composite
def csv_documents(draw) -> bytes:
    """Header plus rows, the header usually naming the target, cells anything at all."""
    columns = draw(st.lists(st.sampled_from(["a", "b", "churned", "c", ""]) | st.text(max_size=4),
                            min_size=1, max_size=5))
    if draw(st.booleans()):
        columns = [*columns, "churned"]
    rows = draw(st.lists(st.lists(cells, min_size=len(columns) - 1, max_size=len(columns) + 1), max_size=40))
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    lines = [delimiter.join(columns)] + [delimiter.join(row) for row in rows]
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), errors="replace")


def well_formed(rows: int) -> bytes:
    lines = ["a,b,churned"] + [f"{i % 7},{'xy'[i % 2]},{i % 2}" for i in range(rows)]
    return "\n".join(lines).encode()


@BOUNDED
@given(st.binary(max_size=3000) | csv_documents())
@example(b"")
@example(b"\xef\xbb\xbfchurned,a\n1,2\n")
@example(b",\x80,churned\n,,")  # found by Hypothesis: a non-UTF-8 header raised KeyError
@example(b"a, churned\n" + b"".join(b"%d, %d\n" % (i, i % 2) for i in range(200)))  # spaces in the header
@example(well_formed(200))
def test_the_csv_reader_accepts_or_refuses_with_the_documented_error_and_leaves_nothing_half_done(document):
    with tempfile.TemporaryDirectory(prefix="portway-prop-") as tmp:
        tmp = Path(tmp)
        data = tmp / "data.csv"
        data.write_bytes(document)
        out = tmp / "out"
        outputs = [str(out / f"{name}.parquet") for name in SPLITS] + [str(out / "profile.json")]
        try:
            profile = process_dataset(str(data), "churned", *outputs)
        except (InputDataError, ParameterError) as exc:
            message = str(exc)
            assert message and "\n" not in message
            left = sorted(p.name for p in out.rglob("*")) if out.exists() else []
            assert left == [], left  # no split, no profile, no temporary file
            return
        assert all(os.path.getsize(path) > 0 for path in outputs)
        assert sum(profile["splits"].values()) == profile["rows"]
        assert len(profile["classes"]) >= 2


@pytest.mark.parametrize("where, name", [
    ("model dir", "model card.md"), ("model dir", "notes\n.txt"), ("model dir", "modèle.json"),
    ("extra file", "../escape.html"), ("extra file", "/abs.html"), ("extra file", "a" * 64),
])
def test_registration_refuses_unsafe_artifact_names_before_writing_anything(tmp_path, trained, where, name):
    import shutil

    from portway.registry import ModelRegistry

    model_dir = tmp_path / "model"
    shutil.copytree(trained["model_dir"], model_dir)
    extra = {}
    if where == "model dir":
        (model_dir / name).write_text("x")
    else:
        extra = {name: trained["evaluation_path"]}
    registry = ModelRegistry(str(tmp_path / "registry"))
    with pytest.raises(ParameterError, match="artifact file name"):
        registry.register("churn", model_dir, {}, {}, evaluation_path=trained["evaluation_path"], extra_files=extra)
    assert not (tmp_path / "registry").exists() or registry.store.list("") == []
