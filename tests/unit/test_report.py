"""The evaluation report: self-contained HTML whose figures are the evaluation's own."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from champion_fixtures import GROUP, approved_champion, run_evaluate, train_weak_model

from portway.report import format_metric, render_report
from portway.steps.evaluate import METRIC_NAMES, metrics_from_report
from portway.steps.gate import parse_rules

PLOTS = {"roc", "precision-recall", "confusion-matrix", "feature-importance", "class-balance", "missing-values"}

# What a browser would fetch: src/href attributes and CSS url(...), except in-document "#id"
# links (matplotlib's SVG uses them for markers and clip paths) and data: URIs (the heatmaps'
# pixels, inline in the file); @import; elements that load or run something.
_LOADS = re.compile(
    r"""\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?(?!#|data:)[^"'\s>]+"""
    r"""|url\(\s*["']?(?!#|data:)[^)]*\)|@import|<\s*(?:script|link|iframe|object|embed|img|base)\b""",
    re.IGNORECASE,
)
# xmlns="http://www.w3.org/2000/svg" names the SVG namespace: an identifier, never fetched.
_NAMESPACE = re.compile(r"""\bxmlns(?::\w+)?\s*=\s*["'][^"']*["']""")


def external_loads(html: str) -> list[str]:
    return [m.group(0) for m in _LOADS.finditer(html)]


def web_addresses(html: str) -> list[str]:
    return re.findall(r"https?://\S+", _NAMESPACE.sub("", html))


class _Cells(HTMLParser):
    """Text of the metric cells (td[data-metric][data-model]) and of every table row."""

    def __init__(self):
        super().__init__()
        self.metrics: dict[tuple[str, str], str] = {}
        self.plots: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._cell = None
        self._table = None
        self._plot = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and "data-metric" in attrs:
            self._cell = (attrs["data-model"], attrs["data-metric"])
            self.metrics[self._cell] = ""
        if tag == "table" and "id" in attrs:
            self._table = attrs["id"]
            self.tables[self._table] = []
        if tag == "tr" and self._table:
            self.tables[self._table].append([])
        if tag == "td" and self._table:
            self.tables[self._table][-1].append("")
        if tag == "figure" and "data-plot" in attrs:
            self._plot = attrs["data-plot"]
            self.plots[self._plot] = ""
        if self._plot and tag in ("svg", "path", "use", "text"):
            self.plots[self._plot] += f"<{tag}>"

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        if tag == "table":
            self._table = None
        if tag == "figure":
            self._plot = None

    def handle_data(self, data):
        if self._cell:
            self.metrics[self._cell] += data.strip()
        if self._table and self.tables[self._table] and self.tables[self._table][-1]:
            self.tables[self._table][-1][-1] += data.strip()
        if self._plot:
            self.plots[self._plot] += data


def parse(html: str) -> _Cells:
    cells = _Cells()
    cells.feed(html)
    return cells


@pytest.fixture(scope="module")
def reports(processed, trained, tmp_path_factory) -> dict:
    """The report of the same candidate without a champion and beside an approved (weaker) one."""
    root = tmp_path_factory.mktemp("reports")
    weak = train_weak_model(processed, root / "weak")
    rules = "auc>=0.5;auc>=champion+0.005"
    alone = run_evaluate(root / "alone", processed, trained, root / "empty-registry", rules)
    approved_champion(root / "registry", weak)
    beside = run_evaluate(root / "beside", processed, trained, root / "registry", rules)
    return {
        "alone": {"dir": root / "alone", "result": alone},
        "beside": {"dir": root / "beside", "result": beside, "champion": weak},
    }


@pytest.mark.parametrize("case", ["alone", "beside"])
def test_report_is_self_contained(reports, case):
    html = (reports[case]["dir"] / "report.html").read_text()
    assert external_loads(html) == []
    assert web_addresses(html) == []
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert html.count("<svg") >= len(PLOTS)


def test_the_checks_catch_a_reference_to_load():
    """The two checks above can fail: each planted reference is found."""
    for planted in ['<img src="https://example.com/x.png">', '<link href="style.css">', "<script>1</script>",
                    '<div style="background: url(https://cdn.example/a.png)">', "<style>@import 'x.css';</style>",
                    '<use xlink:href="other.svg#m1"/>']:
        assert external_loads(f"<p>{planted}</p>"), planted
    assert web_addresses('<svg xmlns="http://www.w3.org/2000/svg"><a>see http://example.com</a></svg>')
    assert external_loads('<svg xmlns="http://www.w3.org/2000/svg"><use xlink:href="#m1"/>'
                          '<image xlink:href="data:image/png;base64,iVBORw0KGgo="/></svg>') == []


@pytest.mark.parametrize("case", ["alone", "beside"])
def test_every_plot_is_there(reports, case):
    cells = parse((reports[case]["dir"] / "report.html").read_text())
    expected = PLOTS | ({"confusion-matrix-champion"} if case == "beside" else set())
    assert set(cells.plots) == expected
    for name, content in cells.plots.items():
        assert content.startswith("<svg>") and "<path>" in content, name
    if case == "beside":
        assert f"champion {GROUP}:1" in cells.plots["roc"] and f"champion {GROUP}:1" in cells.plots["precision-recall"]
    else:
        assert "champion" not in cells.plots["roc"]


@pytest.mark.parametrize("case", ["alone", "beside"])
def test_metrics_table_shows_the_figures_of_evaluation_json(reports, case):
    directory = reports[case]["dir"]
    cells = parse((directory / "report.html").read_text())
    evaluation = metrics_from_report(json.loads((directory / "evaluation.json").read_text()))
    assert {name: cells.metrics[("candidate", name)] for name in METRIC_NAMES} == {
        name: f"{evaluation[name]:.4f}" for name in METRIC_NAMES}
    champion_cells = {name for model, name in cells.metrics if model == "champion"}
    if case == "alone":
        assert champion_cells == set()
        assert "No approved version in this model group yet" in (directory / "report.html").read_text()
    else:
        # The champion was trained on the same splits, so its own evaluation.json holds its
        # scores on these rows: the report's champion column must show exactly those.
        own = metrics_from_report(json.loads(Path(reports[case]["champion"]["evaluation_path"]).read_text()))
        assert {name: cells.metrics[("champion", name)] for name in METRIC_NAMES} == {
            name: f"{own[name]:.4f}" for name in METRIC_NAMES}


def test_gate_section_shows_the_decision_and_both_scores(reports):
    result = reports["beside"]["result"]
    cells = parse((reports["beside"]["dir"] / "report.html").read_text())
    rows = {row[0]: row for row in cells.tables["gate"] if row}
    relative = rows["auc>=champion+0.005"]
    check = next(c for c in result["decision"]["checks"] if c["rule"] == "auc>=champion+0.005")
    assert relative[1:4] == [format_metric(check["value"]), format_metric(check["bound"]),
                             "yes" if check["passed"] else "no"]
    assert f"champion scored {result['decision']['champion']['metrics']['auc']:.4f}" in relative[4]


def test_profile_figures_match_the_process_profile(reports, processed):
    profile = processed["profile"]
    cells = parse((reports["alone"]["dir"] / "report.html").read_text())
    assert {row[0]: row[1] for row in cells.tables["class-balance"] if row} == {
        c: f"{n:,}" for c, n in profile["class_balance"].items()}
    assert {row[0]: row[1] for row in cells.tables["missing-values"] if row} == {
        c: f"{n:,}" for c, n in profile["missing_values"].items()}
    assert any(n > 0 for n in profile["missing_values"].values())  # the churn data has gaps to show
    facts = {row[0]: row[1] for row in cells.tables["profile"] if row}
    assert facts["rows"] == f"{profile['rows']:,}" and facts["test split"] == f"{profile['splits']['test']:,}"


def test_feature_importance_shows_the_top_features_by_gain(reports):
    result = reports["alone"]["result"]
    plot = parse((reports["alone"]["dir"] / "report.html").read_text()).plots["feature-importance"]
    top = sorted(result["feature_importance"].items(), key=lambda kv: kv[1], reverse=True)[:20]
    assert top, "the model has splits"
    for name, gain in top:
        assert name in plot and f"{gain:,.4g}" in plot


def test_multiclass_report_says_why_there_are_no_curves_and_escapes_names(tmp_path):
    """Rendering alone (no model): names from the data are escaped, and a 3-class target has no curves."""
    candidate = {"metrics": dict.fromkeys(METRIC_NAMES, 0.5), "confusion_matrix": [[3, 1, 0], [0, 2, 1], [1, 0, 4]],
                 "classes": ["a", "b", "<c>"], "curves": {}, "test_rows": 12,
                 "feature_importance": {"<script>alert(1)</script>": 2.0}}
    profile = {"rows": 12, "columns": 2, "target": "y", "class_balance": {"a": 4, "b": 3, "<c>": 5},
               "missing_values": {"<script>alert(1)</script>": 0}, "splits": {"test": 12}}
    from portway.steps.gate import decide

    decision = decide(parse_rules("accuracy>=0.4"), candidate["metrics"])
    decision["champion"] = None
    html = render_report(GROUP, candidate, None, decision, profile)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "drawn for binary targets only; this target has 3 classes" in html
    assert set(parse(html).plots) == PLOTS - {"roc", "precision-recall"}
    assert external_loads(html) == [] and web_addresses(html) == []
