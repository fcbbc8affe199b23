"""Lint and render the Helm charts under charts/ with Helm's own library (helm-python-sdk).

    python -m portway.devtools.charts lint [CHART_DIR ...]

Each chart is linted strictly and rendered once per `ci/*-values.yaml` scenario (the
chart-testing convention), at every Kubernetes version in KUBE_VERSIONS. No helm binary,
cluster or network is needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

# The Kubernetes versions the charts and manifests are checked against.
KUBE_VERSIONS = ("v1.30.0", "v1.33.0")
DEFAULT_RELEASE = "portway"
DEFAULT_NAMESPACE = "portway"
_MISSING_DEPENDENCIES = "chart directory is missing these dependencies: "


def chart_dirs(root: Path) -> list[Path]:
    """Every chart (a directory with Chart.yaml) directly under `root`."""
    return sorted(p.parent for p in Path(root).glob("*/Chart.yaml"))


def ci_values_files(chart_dir: Path) -> list[Path]:
    return sorted(Path(chart_dir).glob("ci/*-values.yaml"))


def load_values(path: Path) -> dict:
    values = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a values file must hold a mapping, found {type(values).__name__}.")
    return values


def render_chart(chart_dir: Path, values: dict | None = None, *, release: str = DEFAULT_RELEASE,
                 namespace: str = DEFAULT_NAMESPACE) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` would produce (schema checked first).

    Raises helm_python.HelmValuesError (schema) or HelmRenderError (`fail`/`required`)."""
    import helm_python

    with helm_python.Chart.load(str(chart_dir)) as chart:
        return chart.render(values or {}, name=release, namespace=namespace, is_install=True)


def rendered_objects(rendered: dict[str, str]) -> list[dict]:
    """The Kubernetes objects in a render (NOTES.txt and empty documents dropped)."""
    objects = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(rendered[path]) if doc)
    return objects


def unfetched_dependencies(chart_dir: Path) -> list[str]:
    """Names of dependencies declared in Chart.yaml but not present under charts/."""
    import helm_python

    return [d["name"] for d in helm_python.dependency_list(str(chart_dir)) if d["status"] == "missing"]


def lint_chart(chart_dir: Path, values: dict | None = None, *, kube_version: str = KUBE_VERSIONS[0]) -> list[str]:
    """`helm lint --strict` findings (warnings and errors) as strings; empty when clean.

    A declared dependency that was never fetched (`helm dependency update` needs the network)
    is the one finding tolerated, and only while dependency_list reports it missing."""
    import helm_python

    report = helm_python.lint(str(chart_dir), values, strict=True, kube_version=kube_version)
    unfetched = unfetched_dependencies(chart_dir)
    tolerated = _MISSING_DEPENDENCIES + ", ".join(unfetched) if unfetched else None
    problems = []
    for message in report["messages"]:
        if message["severity"] < 2:  # info ("icon is recommended") is not a warning, even in --strict
            continue
        if tolerated and message["error"] == tolerated:
            continue
        problems.append(f"{message['path']}: {message['error']}")
    return problems


def check_chart(chart_dir: Path) -> list[str]:
    """Lint and render every ci scenario of one chart; returns the problems found."""
    problems = []
    scenarios = ci_values_files(chart_dir)
    if not scenarios:
        problems.append(f"{chart_dir}: no ci/*-values.yaml scenario to lint with.")
    for values_file in scenarios:
        values = load_values(values_file)
        for kube_version in KUBE_VERSIONS:
            problems += [f"{values_file.name} ({kube_version}): {p}"
                         for p in lint_chart(chart_dir, values, kube_version=kube_version)]
        try:
            if not rendered_objects(render_chart(chart_dir, values)):
                problems.append(f"{values_file.name}: renders no Kubernetes object.")
        except Exception as exc:  # HelmValuesError / HelmRenderError carry Helm's own message
            problems.append(f"{values_file.name}: {exc}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portway.devtools.charts", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lint = sub.add_parser("lint", help="lint and render every chart with each of its ci/*-values.yaml")
    lint.add_argument("charts", nargs="*", type=Path, help="chart directories (default: every chart under ./charts)")
    args = parser.parse_args(argv)

    charts = args.charts or chart_dirs(Path("charts"))
    if not charts:
        print("error: no chart found under ./charts; run from the repository root or name chart directories.",
              file=sys.stderr)
        return 2
    failed = 0
    for chart_dir in charts:
        problems = check_chart(chart_dir)
        scenarios = len(ci_values_files(chart_dir))
        if problems:
            failed += 1
            print(f"FAIL {chart_dir} ({scenarios} scenarios)")
            for problem in problems:
                print(f"  {problem}")
        else:
            unfetched = unfetched_dependencies(chart_dir)
            note = f"; dependency not fetched: {', '.join(unfetched)}" if unfetched else ""
            print(f"ok   {chart_dir} ({scenarios} scenarios x {len(KUBE_VERSIONS)} Kubernetes versions{note})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
