"""`bench/benchmarks.py --quick` runs end to end and writes well-formed results (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.local


def test_quick_benchmark_writes_results_and_table(tmp_path):
    results_path, markdown_path = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "benchmarks.py"), "--quick", "--output",
                           str(results_path), "--markdown", str(markdown_path)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(results_path.read_text())
    assert results["quick"] is True and results["machine"]["cpus"] >= 1
    benchmarks = results["benchmarks"]
    for _rows, figures in benchmarks["orchestration"].items():
        assert figures["portway_run"]["median"] > 0 and figures["direct_functions"]["median"] > 0
        assert figures["cached_rerun_all_hits"] is True
        assert figures["changed_hyperparameter_reran"] == {"process": False, "train": True, "evaluate": True,
                                                           "register": True}
    for figures in benchmarks["process"].values():
        assert figures["process_peak_rss_bytes"] > 0 and figures["arrow_in_memory_bytes"] > 0
    assert benchmarks["training"]["device"] == "cpu"
    distributed = benchmarks["distributed"]
    assert 0 < distributed["overhead_rss_bytes"] and 0 < distributed["worker_peak_rss_bytes"]
    assert 0 < distributed["auc"]["distributed"] <= 1
    scale = benchmarks["compile_scale"]  # quick sizes: 4 x 5 distinct tasks, loops nested 2 x 2 x 2
    assert (scale["wide"]["tasks_in_ir"], scale["wide"]["tasks_run"]) == (20, 20)
    assert (scale["nested"]["tasks_in_ir"], scale["nested"]["tasks_run"]) == (3, 2 + 4 + 8)
    for figures in (scale["wide"], scale["nested"]):
        assert figures["kfp_ir_bytes"] > 0 and figures["kfp_compiler"]["runs"] == 1
        assert 0 < figures["argo_bytes"] < figures["max_document_bytes"], figures.get("argo_refused")
    table = markdown_path.read_text()
    assert "| # | measure |" in table and "quick smoke run" in table
    assert "## Compile scale" in table and "nested ParallelFor 2×2×2" in table
