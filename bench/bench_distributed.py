"""Distributed train (`--workers N`) on this machine: memory per worker, time, and model quality.

    .venv/bin/python bench/benchmarks.py --only distributed           # part of `make bench`
    .venv/bin/python bench/bench_distributed.py --rows 1000000        # this part alone

1. Peak RSS of each of N workers against the single-process `train` on the same rows. The goal
   is worker ≤ overhead + (single − overhead) / N: each worker holds about 1/N of the data the
   single process holds, on top of a fixed overhead, measured here as the peak RSS of a process
   that imports what a worker imports (Python, NumPy, Arrow, XGBoost) and loads nothing.
2. Wall time of 1 process (`train`, every core) against 2 workers (`run_local_workers`, one core
   each) on this 2-core machine: the same cores split two ways, plus the workers' start-up and
   all-reduce traffic. It says what distributing costs on one machine, not what it gains on
   several (there each worker brings its own cores and memory).
3. Test AUC of 3 workers against 1 process on the same split (issue 13: within 0.005).

Peak RSS is each process's own VmHWM (/proc/self/status) read as it exits: the kernel's maxrss of
a child also counts the parent's pages it held between fork and exec, VmHWM only its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

AUC_TOLERANCE = 0.005
# Every measured process prints its high-water RSS last, whatever way it exits.
REPORT = ("import atexit\n"
          "def _peak():\n"
          "    kib = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
          "    print('PEAK_RSS_KIB', kib, flush=True)\n"
          "atexit.register(_peak)\n")
WORKER = [sys.executable, "-c", REPORT + "import runpy\nrunpy.run_module('portway.steps.train_distributed', "
          "run_name='__main__')"]
BASELINE = REPORT + ("import numpy, pyarrow.parquet, xgboost, xgboost.collective, xgboost.tracker\n"
                     "import portway.steps.train_distributed\n")
SINGLE = REPORT + """
import json, sys
from portway.fileio import read_json
from portway.steps.train import train_model
train, validation, profile, out, settings = sys.argv[1:6]
settings = json.loads(settings)
record = train_model(train, validation, read_json(profile), out, hyperparameters=settings.get("hyperparameters"),
                     num_boost_round=settings["num_boost_round"], early_stopping_rounds=settings["early_stopping_rounds"],
                     gpus=0, nthread=int(sys.argv[6]))
print(json.dumps({"best_iteration": record["best_iteration"]}))
"""


def _wait(procs: list[subprocess.Popen]) -> list[int]:
    """Peak RSS (bytes) each child reported as it exited; fails if one failed."""
    for proc in procs:
        proc.wait()
    peaks = []
    for proc in procs:
        proc.stdout.seek(0)
        out = proc.stdout.read()
        proc.stdout.close()
        lines = [line for line in out.splitlines() if line.startswith("PEAK_RSS_KIB ")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"benchmark child failed ({proc.returncode}):\n{out[-3000:]}")
        peaks.append(int(lines[-1].split()[1]) * 1024)
    return peaks


def _spawn(command: list[str], env: dict | None = None) -> subprocess.Popen:
    """Output to a file, not a pipe: a worker blocked on a full pipe would stall its peers."""
    import tempfile

    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                            text=True)
    proc.stdout = log  # read back by _wait
    return proc


def baseline_rss() -> int:
    return _wait([_spawn([sys.executable, "-c", BASELINE])])[0]


def single_process(split: dict, model_dir: Path, settings: dict, threads: int) -> tuple[float, int]:
    started = time.perf_counter()
    (peak,) = _wait([_spawn([sys.executable, "-c", SINGLE, split["train"], split["validation"], split["profile"],
                             str(model_dir), json.dumps(settings), str(threads)])])
    return time.perf_counter() - started, peak


def workers(split: dict, model_dir: Path, settings: dict, nodes: int) -> tuple[float, list[int]]:
    """The local launcher's processes (same entry point, DMLC_* and thread split), measured one by one."""
    from portway.trainjob.launch import worker_arguments
    from portway.trainjob.local import free_loopback_port, worker_environments

    threads = max(1, (os.cpu_count() or 1) // nodes)
    args = [*worker_arguments(split["train"], split["validation"], split["profile"], str(model_dir), settings),
            "--gpus=0", f"--nthread={threads}", "--connect-timeout=300"]
    envs = worker_environments(nodes, 0, free_loopback_port())
    started = time.perf_counter()
    procs = [_spawn([*WORKER, *args], {**env, "OMP_WAIT_POLICY": "PASSIVE"}) for env in envs]
    peaks = _wait(procs)
    return time.perf_counter() - started, peaks


def _split(data: Path, out: Path, shards: int) -> dict:
    from portway.steps.process import process_dataset

    names = ("train", "validation", "test")
    paths = {n: str(out / (n if shards > 1 else f"{n}.parquet")) for n in names}
    if not (out / "profile.json").exists():
        process_dataset(str(data), "churned", paths["train"], paths["validation"], paths["test"],
                        str(out / "profile.json"), shards=shards)
    return {**paths, "profile": str(out / "profile.json")}


def _auc(model_dir: Path, test: str, out: Path) -> float:
    from portway.steps.evaluate import evaluate_model

    return evaluate_model(str(model_dir), test, str(out))["metrics"]["auc"]


def bench_distributed(work: Path, rows: int, repeats: int, rounds: int, nodes: int = 2, auc_workers: int = 3) -> dict:
    from portway.datasets.generate import generate

    data = work / "data" / f"churn-{rows}.parquet"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        generate(data, rows=rows, seed=7)
    one = _split(data, work / f"dist-{rows}-1", 1)
    many = _split(data, work / f"dist-{rows}-{nodes}", nodes)
    fixed = {"num_boost_round": rounds, "early_stopping_rounds": 0}  # same work on both sides
    threads = os.cpu_count() or 1
    overhead = baseline_rss()
    single_times, single_peaks, dist_times, worker_peaks = [], [], [], []
    for i in range(repeats):  # alternate the two sides
        seconds, peak = single_process(one, work / f"m1-{i}", fixed, threads)
        single_times.append(seconds)
        single_peaks.append(peak)
        seconds, peaks = workers(many, work / f"m{nodes}-{i}", fixed, nodes)
        dist_times.append(seconds)
        worker_peaks.append(max(peaks))
    single_peak, worker_peak = min(single_peaks), min(worker_peaks)
    goal = overhead + (single_peak - overhead) / nodes

    # Quality at the pipeline's defaults (300 rounds, early stopping after 20) on the same split.
    defaults = {"num_boost_round": 300, "early_stopping_rounds": 20}
    sharded = _split(data, work / f"dist-{rows}-{auc_workers}", auc_workers)
    single_process(one, work / "auc-1", defaults, threads)
    workers(sharded, work / f"auc-{auc_workers}", defaults, auc_workers)
    auc_1 = _auc(work / "auc-1", one["test"], work / "auc-1.json")
    auc_n = _auc(work / f"auc-{auc_workers}", sharded["test"], work / f"auc-{auc_workers}.json")

    median = sorted(single_times)[len(single_times) // 2], sorted(dist_times)[len(dist_times) // 2]
    return {
        "rows": rows, "num_boost_round": rounds, "workers": nodes, "repeats": repeats, "cpus": os.cpu_count(),
        "overhead_rss_bytes": overhead, "single_peak_rss_bytes": single_peak, "worker_peak_rss_bytes": worker_peak,
        "goal_rss_bytes": goal, "rss_goal_met": worker_peak <= goal,
        "single_seconds": single_times, "workers_seconds": dist_times,
        "single_median_seconds": median[0], "workers_median_seconds": median[1],
        "workers_over_single_time": median[1] / median[0],
        "auc": {"workers": auc_workers, "single": auc_1, "distributed": auc_n, "delta": auc_n - auc_1,
                "goal_met": auc_n >= auc_1 - AUC_TOLERANCE},
    }


def markdown_rows(r: dict) -> list[str]:
    mib = 2**20
    auc = r["auc"]
    return [
        f"| 7 | `train` peak RSS per worker ({r['workers']} workers) vs 1 process | {r['rows']:,} rows | "
        f"{r['worker_peak_rss_bytes'] / mib:,.0f} MiB per worker | {r['single_peak_rss_bytes'] / mib:,.0f} MiB "
        f"(overhead {r['overhead_rss_bytes'] / mib:,.0f} MiB) | "
        f"{r['worker_peak_rss_bytes'] / r['single_peak_rss_bytes']:.2f} | ≤ overhead + data/{r['workers']} = "
        f"{r['goal_rss_bytes'] / mib:,.0f} MiB | {'met' if r['rss_goal_met'] else '**not met**'} |",
        f"| 7 | `train` wall time, {r['workers']} workers vs 1 process, on {r['cpus']} cores (the cores split, "
        f"not added) | {r['rows']:,} rows, {r['num_boost_round']} rounds | {r['workers_median_seconds']:.1f} s | "
        f"{r['single_median_seconds']:.1f} s | {r['workers_over_single_time']:.2f} | stated, no goal | n/a |",
        f"| 7 | test AUC, {auc['workers']} workers vs 1 process | {r['rows']:,} rows | {auc['distributed']:.4f} | "
        f"{auc['single']:.4f} | Δ {auc['delta']:+.4f} | ≥ single − 0.005 | {'met' if auc['goal_met'] else '**not met**'} |",
    ]


def main() -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="portway-bench-dist-"))
    result = bench_distributed(work, args.rows, args.repeats, args.rounds)
    print(json.dumps(result, indent=2))
    print("\n".join(markdown_rows(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
