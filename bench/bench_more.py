"""Benchmarks 5 (serving) and 6 (compile scale): filled in once serve and compile exist."""

from __future__ import annotations


def bench_serving(work, requests: int, repeats: int) -> dict:
    return {"skipped": "portway serve not available yet"}


def bench_compile(fanouts: list[int], repeats: int) -> dict:
    return {"skipped": "portway compile not available yet"}
