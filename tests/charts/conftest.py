"""Chart fixtures: the charts, their ci scenarios, and a renderer that returns objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from portway.devtools.charts import ci_values_files, load_values, render_chart, rendered_objects

CHARTS_DIR = Path(__file__).resolve().parents[2] / "charts"
GPU_CHART = CHARTS_DIR / "gpu-nodepool"
KSERVE_CHART = CHARTS_DIR / "kserve-inference"
SCENARIOS = [(chart.name, values) for chart in (GPU_CHART, KSERVE_CHART) for values in ci_values_files(chart)]


def render(chart: Path, values: dict | None = None, **kwargs) -> list[dict]:
    return rendered_objects(render_chart(chart, values, **kwargs))


def by_kind(objects: list[dict], kind: str) -> dict:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}: {[o['kind'] for o in objects]}"
    return found[0]


def scenario_values(name: str) -> dict:
    chart = CHARTS_DIR / name.split("/")[0]
    return load_values(chart / "ci" / name.split("/")[1])


@pytest.fixture
def gpu_defaults() -> dict:
    """The least the GPU chart needs (its minimal ci scenario)."""
    return load_values(GPU_CHART / "ci" / "minimal-values.yaml")


@pytest.fixture
def kserve_defaults() -> dict:
    return load_values(KSERVE_CHART / "ci" / "minimal-values.yaml")
