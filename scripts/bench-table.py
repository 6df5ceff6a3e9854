#!/usr/bin/env python3
"""Markdown tables of criterion results: per benchmark, the median of its per-run medians
over several saved runs, and its ratio to a floor benchmark of the same group (computed per
run, then the median taken, so the ratio never mixes runs).

usage: scripts/bench-table.py RUN_DIR[,RUN_DIR...] GROUP FLOOR [GROUP FLOOR ...]
A RUN_DIR is a copy of target/criterion taken after one `cargo bench` process.
"""
import json
import pathlib
import statistics
import sys


def medians(run, group):
    out = {}
    for est in sorted((pathlib.Path(run) / group).glob("**/new/estimates.json")):
        bench = json.loads((est.parent / "benchmark.json").read_text())
        key = bench["function_id"] + (f"/{bench['value_str']}" if bench.get("value_str") else "")
        out[key] = json.loads(est.read_text())["median"]["point_estimate"]
    return out


def fmt(ns):
    if ns < 1000:
        return f"{ns:.2f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e6:.2f} ms"


runs = sys.argv[1].split(",")
args = sys.argv[2:]
for group, floor in zip(args[::2], args[1::2]):
    per_run = [medians(r, group) for r in runs]
    keys = [k for k in per_run[0] if all(k in m for m in per_run)]
    print(f"\n#### {group} ({len(runs)} runs)\n")
    print(f"| benchmark | median per run | median | ratio to `{floor}` |\n|---|---|---|---|")
    for k in keys:
        param = k.split("/", 1)[1] if "/" in k else None
        fk = f"{floor}/{param}" if param else floor
        vals = [m[k] for m in per_run]
        ratios = [m[k] / m[fk] for m in per_run if fk in m]
        ratio = f"{statistics.median(ratios):.2f}x" if ratios else "-"
        print(f"| {k} | {' / '.join(fmt(v) for v in vals)} | **{fmt(statistics.median(vals))}** | {ratio} |")
