"""The comparison itself: it must see every kind of difference the differential test relies on."""

from __future__ import annotations

import pytest

from corpus.index import FAILED, SUCCEEDED, artifact, ok
from corpus.record import artifact_files, canonical, differences, fill, normalized

pytestmark = pytest.mark.corpus


def run(tasks: dict, status: str = SUCCEEDED) -> dict:
    return normalized({"status": status, "tasks": tasks})


BASE = {"make": [ok({"Output": "x", "n": 3}, {"data": artifact("abc", {"rows": 2})})],
        "loop": [ok({"Output": 1}), ok({"Output": 2})]}


def test_identical_runs_have_no_differences():
    assert differences(run(BASE), run(BASE)) == []


@pytest.mark.parametrize(("change", "where"), [
    (lambda t: t["make"][0]["parameters"].update(Output="y"), "/tasks/make[0]/parameters/Output"),
    (lambda t: t["make"][0]["artifacts"]["data"]["files"].update({".": "abd"}), "/files/."),
    (lambda t: t["make"][0]["artifacts"]["data"]["metadata"].update(rows=3), "/metadata/rows"),
    (lambda t: t.pop("loop"), "/tasks/loop: missing"),
    (lambda t: t["loop"].pop(), "/tasks/loop: 1 items, expected 2"),
    (lambda t: t.update(extra=[ok()]), "/tasks/extra: unexpected"),
    (lambda t: t["make"][0].update(state=FAILED), "/tasks/make[0]/state"),
])
def test_each_kind_of_difference_is_reported(change, where):
    import copy

    changed = copy.deepcopy(BASE)
    change(changed)
    found = differences(run(BASE), run(changed))
    assert any(where in line for line in found), found


def test_a_different_final_status_is_reported():
    assert differences(run(BASE), run(BASE, FAILED)) == ['/status: "FAILED" != expected "SUCCEEDED"']


def test_loop_iterations_compare_in_any_order():
    swapped = {**BASE, "loop": list(reversed(BASE["loop"]))}
    assert differences(run(BASE), run(swapped)) == []


def test_numbers_compare_as_json_does_but_big_ints_stay_exact():
    assert canonical({"a": 4.0, "b": [1.0, 2.5]}) == {"a": 4, "b": [1, 2.5]}
    assert differences({"v": 9007199254740993}, {"v": 9007199254740992.0}) != []
    assert differences({"v": True}, {"v": 1}) != []


def test_a_pattern_matches_whole_strings_only():
    assert differences({"uri": {"re": r"s3://\S+"}}, {"uri": "s3://bucket/key"}) == []
    assert differences({"uri": {"re": r"s3://\S+"}}, {"uri": "gs://bucket/key"}) != []
    assert differences({"uri": {"re": r"s3://\S+"}}, {"uri": 5}) != []


def test_artifact_files_reads_files_and_directory_trees(tmp_path):
    (tmp_path / "file.txt").write_text("hi")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "a.txt").write_text("a")
    (tree / "b.bin").write_bytes(b"\xff\x00")
    assert artifact_files(tmp_path / "file.txt") == {".": "hi"}
    assert artifact_files(tree) == {"b.bin": {"hex": "ff00"}, "sub/a.txt": "a"}
    assert artifact_files(tmp_path / "missing") == {}


def test_fill_replaces_slots_in_nested_arguments():
    assert fill({"a": "{workdir}/x", "b": ["{workdir}"], "c": 3}, {"workdir": "/w"}) == {
        "a": "/w/x", "b": ["/w"], "c": 3}
