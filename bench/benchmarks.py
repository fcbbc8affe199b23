"""Portway benchmarks: what each part costs, side by side with its own floor.

    .venv/bin/python bench/benchmarks.py            # full run (make bench), ~10-15 min on 2 cores
    .venv/bin/python bench/benchmarks.py --quick    # smoke run: tiny sizes, 1-2 repeats

Every comparison runs both sides in the same invocation, alternating (ours, floor, ours,
floor, ...), and reports the ratio of medians, because these machines are noisy. Results go
to bench/results.json and a table in BENCHMARKS.md. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PORTWAY = str(Path(PYTHON).with_name("portway"))


# -- helpers ------------------------------------------------------------------------------

def stats(samples: list[float]) -> dict:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "runs": len(samples),
            "samples": samples}


def ratio(ours: dict, floor: dict) -> float:
    return ours["median"] / floor["median"] if floor["median"] else float("nan")


def run_python(code: str, *args: str, env: dict | None = None) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON line last. Adds wall and peak RSS."""
    started = time.perf_counter()
    proc = subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def dataset(cache: Path, rows: int, fmt: str) -> Path:
    """The synthetic churn data at `rows` rows, generated once per size and format."""
    path = cache / f"churn-{rows}.{fmt}"
    if not path.exists():
        from portway.datasets.generate import generate

        generate(path, rows=rows, seed=7)
    return path


# -- 1 and 2: orchestration overhead, cached rerun ----------------------------------------

DIRECT_CHAIN = r"""
import json, sys, time
t0 = time.perf_counter()
from portway.steps.process import process_dataset
from portway.steps.train import train_model
from portway.steps.champion import evaluate_against_champion
from portway.steps.gate import build_rules
from portway.steps.register import register_model
data, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
steps = {}
t = time.perf_counter()
profile = process_dataset(data, "churned", f"{out}/train.parquet", f"{out}/validation.parquet",
                          f"{out}/test.parquet", f"{out}/profile.json")
steps["process"] = time.perf_counter() - t
t = time.perf_counter()
train_model(f"{out}/train.parquet", f"{out}/validation.parquet", profile, f"{out}/model", num_boost_round=rounds,
            gpus=0)
steps["train"] = time.perf_counter() - t
t = time.perf_counter()
evaluate_against_champion(f"{out}/model", f"{out}/test.parquet", f"{out}/profile.json", f"{out}/evaluation.json",
                          f"{out}/report.html", build_rules("auc", 0.8), f"{out}/registry", "bench", "none")
steps["evaluate"] = time.perf_counter() - t
t = time.perf_counter()
register_model(f"{out}/registry", "bench", f"{out}/model", f"{out}/evaluation.json", "PendingManualApproval", {},
               extra_files={"report.html": f"{out}/report.html"})
steps["register"] = time.perf_counter() - t
print(json.dumps({"steps": steps, "inside": time.perf_counter() - t0}))
"""


def portway_run(data: Path, runs_dir: Path, rounds: int, *extra: str) -> dict:
    started = time.perf_counter()
    proc = subprocess.run([PORTWAY, "run", "--data", str(data), "--runs-dir", str(runs_dir), "--gpus", "0",
                           "--num-boost-round", str(rounds), "--json", *extra], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"portway run failed:\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout)
    return {"wall": wall, "steps": {s["name"]: s["seconds"] for s in summary["steps"]},
            "cached": {s["name"]: s["cached"] for s in summary["steps"]}}


def bench_orchestration(work: Path, sizes: list[int], repeats: int, rounds: int) -> dict:
    results = {}
    for rows in sizes:
        data = dataset(work / "data", rows, "csv")
        ours, direct, warm = [], [], []
        per_step = {"portway": {}, "direct": {}}
        all_cached = True
        for i in range(repeats):
            out = work / f"direct-{rows}-{i}"
            out.mkdir(parents=True)
            d = run_python(DIRECT_CHAIN, str(data), str(out), str(rounds))
            direct.append(d["wall"])
            for step, seconds in d["steps"].items():
                per_step["direct"].setdefault(step, []).append(seconds)
            runs_dir = work / f"runs-{rows}-{i}"
            cold = portway_run(data, runs_dir, rounds)
            ours.append(cold["wall"])
            for step, seconds in cold["steps"].items():
                per_step["portway"].setdefault(step, []).append(seconds)
            again = portway_run(data, runs_dir, rounds)
            warm.append(again["wall"])
            all_cached = all_cached and all(again["cached"].values())
            if i < repeats - 1:  # the last one stays for the changed-hyperparameter run below
                shutil.rmtree(runs_dir, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
        changed = portway_run(data, runs_dir, rounds, "--max-depth", "4")
        shutil.rmtree(runs_dir, ignore_errors=True)
        results[str(rows)] = {
            "portway_run": stats(ours),
            "direct_functions": stats(direct),
            "ratio": ratio(stats(ours), stats(direct)),
            "per_step_median": {side: {k: statistics.median(v) for k, v in steps.items()}
                                for side, steps in per_step.items()},
            "cached_rerun": stats(warm),
            "cached_rerun_share_of_first": ratio(stats(warm), stats(ours)),
            "cached_rerun_all_hits": all_cached,
            "changed_hyperparameter_reran": {k: not v for k, v in changed["cached"].items()},
        }
    return results


# -- 3: process throughput and memory --------------------------------------------------------

MEASURE_PROCESS = r"""
import json, resource, sys, time
from portway.steps.process import process_dataset
data, out = sys.argv[1], sys.argv[2]
t = time.perf_counter()
profile = process_dataset(data, "churned", f"{out}/train.parquet", f"{out}/validation.parquet",
                          f"{out}/test.parquet", f"{out}/profile.json")
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": profile["rows"],
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

MEASURE_BARE_ARROW = r"""
import json, resource, sys, time
import numpy as np, pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
data, out = sys.argv[1], sys.argv[2]
t = time.perf_counter()
table = pq.read_table(data) if data.endswith(".parquet") else pacsv.read_csv(data)
nbytes = table.nbytes
split = np.random.default_rng(42).random(table.num_rows)
for name, mask in (("train", split < 0.7), ("validation", (split >= 0.7) & (split < 0.85)), ("test", split >= 0.85)):
    pq.write_table(table.filter(pa.array(mask)), f"{out}/{name}.parquet")
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": table.num_rows, "arrow_bytes": nbytes,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

BASELINE_RSS = r"""
import json, resource
import numpy, pyarrow, pyarrow.csv, pyarrow.parquet
import portway.steps.process
print(json.dumps({"peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def bench_process(work: Path, sizes: list[int], repeats: int) -> dict:
    results = {}
    baseline = run_python(BASELINE_RSS)["peak_rss_bytes"]
    for rows in sizes:
        for fmt in ("csv", "parquet"):
            data = dataset(work / "data", rows, fmt)
            ours, bare, ours_rss, bare_rss, arrow_bytes = [], [], [], [], 0
            for _i in range(repeats):
                for _side, code, seconds, rss in (("ours", MEASURE_PROCESS, ours, ours_rss),
                                                 ("bare", MEASURE_BARE_ARROW, bare, bare_rss)):
                    out = Path(tempfile.mkdtemp(dir=work))
                    r = run_python(code, str(data), str(out))
                    seconds.append(r["seconds"])
                    rss.append(r["peak_rss_bytes"])
                    arrow_bytes = r.get("arrow_bytes", arrow_bytes)
                    shutil.rmtree(out)
            results[f"{rows}-{fmt}"] = {
                "rows": rows, "format": fmt, "file_bytes": data.stat().st_size,
                "process": stats(ours), "bare_arrow": stats(bare), "ratio": ratio(stats(ours), stats(bare)),
                "rows_per_second": rows / statistics.median(ours),
                "bare_rows_per_second": rows / statistics.median(bare),
                "arrow_in_memory_bytes": arrow_bytes,
                "interpreter_baseline_rss_bytes": baseline,
                "process_peak_rss_bytes": max(ours_rss),
                "bare_peak_rss_bytes": max(bare_rss),
                "peak_rss_over_arrow_size": max(ours_rss) / arrow_bytes if arrow_bytes else None,
                "peak_rss_above_baseline_over_arrow_size":
                    (max(ours_rss) - baseline) / arrow_bytes if arrow_bytes else None,
            }
    return results


# -- 4: training overhead --------------------------------------------------------------------

def bench_training(work: Path, rows: int, repeats: int, rounds: int) -> dict:
    import xgboost as xgb

    from portway.steps.process import process_dataset
    from portway.steps.splits import feature_names, load_split
    from portway.steps.train import DEFAULT_HYPERPARAMETERS, train_model

    data = dataset(work / "data", rows, "csv")
    splits = work / f"train-splits-{rows}"
    profile = process_dataset(str(data), "churned", str(splits / "train.parquet"), str(splits / "validation.parquet"),
                              str(splits / "test.parquet"), str(splits / "profile.json"))
    threads = os.cpu_count() or 1
    ours, direct, device = [], [], None
    for i in range(repeats):
        t = time.perf_counter()
        record = train_model(str(splits / "train.parquet"), str(splits / "validation.parquet"), profile,
                             str(work / f"model-{i}"), num_boost_round=rounds, early_stopping_rounds=0,
                             gpus=0, nthread=threads)
        ours.append(time.perf_counter() - t)
        device = record["device"]

        # The floor: the same data read, the same parameters and threads, xgboost.train, save.
        t = time.perf_counter()
        X, y = load_split(str(splits / "train.parquet"), profile)
        Xv, yv = load_split(str(splits / "validation.parquet"), profile)
        names = feature_names(profile)
        params = {**DEFAULT_HYPERPARAMETERS, "tree_method": "hist", "device": "cpu", "objective": "binary:logistic",
                  "eval_metric": "logloss", "nthread": threads, "seed": 42}
        booster = xgb.train(params, xgb.DMatrix(X, label=y, feature_names=names, nthread=threads), rounds,
                            evals=[(xgb.DMatrix(Xv, label=yv, feature_names=names, nthread=threads), "validation")],
                            verbose_eval=False)
        booster.save_model(str(work / f"direct-{i}.json"))
        direct.append(time.perf_counter() - t)
    return {"rows": rows, "num_boost_round": rounds, "threads": threads, "device": device,
            "gpu": "no GPU on this machine; the CUDA path is exercised where one is present",
            "train_component": stats(ours), "xgboost_train": stats(direct), "ratio": ratio(stats(ours), stats(direct))}


# -- report --------------------------------------------------------------------------------

def machine() -> dict:
    import kfp
    import pyarrow
    import xgboost

    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "kfp": kfp.__version__, "xgboost": xgboost.__version__, "pyarrow": pyarrow.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, few repeats")
    parser.add_argument("--output", default=str(REPO / "bench" / "results.json"))
    parser.add_argument("--markdown", default=str(REPO / "BENCHMARKS.md"))
    parser.add_argument("--work", default=None, help="scratch folder (default: a temp dir; data is cached here)")
    parser.add_argument("--only", action="append", default=[], help="run only these benchmarks (repeatable)")
    args = parser.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="portway-bench-"))
    (work / "data").mkdir(parents=True, exist_ok=True)
    if args.quick:
        plan = {"repeats": 1, "orchestration_sizes": [2_000], "process_sizes": [20_000], "train_rows": 5_000,
                "rounds": 10, "serving_requests": 50, "fanouts": [2, 5], "distributed_rows": 5_000}
    else:
        plan = {"repeats": 5, "orchestration_sizes": [100_000, 1_000_000], "process_sizes": [1_000_000, 10_000_000],
                "train_rows": 1_000_000, "rounds": 50, "serving_requests": 1_000, "fanouts": [10, 100, 1000],
                "distributed_rows": 1_000_000}
    selected = set(args.only) or {"orchestration", "process", "training", "serving", "compile", "distributed",
                                  "compile-scale"}
    results = {"machine": machine(), "quick": args.quick, "plan": plan, "benchmarks": {}}
    started = time.perf_counter()
    if "orchestration" in selected:
        results["benchmarks"]["orchestration"] = bench_orchestration(
            work, plan["orchestration_sizes"], plan["repeats"], plan["rounds"])
    if "process" in selected:
        results["benchmarks"]["process"] = bench_process(work, plan["process_sizes"], plan["repeats"])
    if "training" in selected:
        results["benchmarks"]["training"] = bench_training(work, plan["train_rows"], plan["repeats"], plan["rounds"])
    from bench_more import bench_compile, bench_serving  # noqa: E402 (the parts that need serve and compile)

    if "serving" in selected:
        results["benchmarks"]["serving"] = bench_serving(work, plan["serving_requests"], plan["repeats"])
    if "compile" in selected:
        results["benchmarks"]["compile"] = bench_compile(plan["fanouts"], plan["repeats"])
    if "distributed" in selected:
        from bench_distributed import bench_distributed  # noqa: E402 (--workers N: RSS per worker, time, AUC)

        results["benchmarks"]["distributed"] = bench_distributed(
            work, plan["distributed_rows"], min(plan["repeats"], 3), plan["rounds"])
    if "compile-scale" in selected:
        from bench_compile_scale import FULL, QUICK, bench_compile_scale  # noqa: E402 (1,000 tasks, nested loops)

        plan["compile_scale"] = QUICK if args.quick else FULL
        results["benchmarks"]["compile_scale"] = bench_compile_scale(plan["compile_scale"])
    results["total_seconds"] = time.perf_counter() - started

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2, default=str))
    from bench_report import write_markdown

    write_markdown(results, Path(args.markdown))
    print(f"wrote {args.output} and {args.markdown} in {results['total_seconds']:.0f}s")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
