"""Figures and verdict of benchmarks/hostile.py: per phase from the recorders'
log, the health probe and the RSS samples; the printed table (Markdown, for
docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.ingest_load import percentile

MAX_GROWTH_MB = 100.0
MAX_P99_MS = 200.0
_VARIABLE = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|\b\d[\d.,:]*\b|pk_[\w-]+")


def phase_stats(
    log: dict[str, Any], health: list[tuple[float, float | None]], start: float, end: float
) -> dict[str, Any]:
    """The recorders' figures for batches sent in [start, end): a batch that
    got no ack (error, close, timeout, refused connection) counts as slower
    than any acked one."""
    acks = sorted(lat for at, lat in log.get("acks", []) if start <= at < end)
    failures = Counter(what for at, what in log.get("failures", []) if start <= at < end)
    attempts = acks + [math.inf] * sum(failures.values())
    hellos = sorted(lat for at, lat in log.get("hellos", []) if start <= at < end)
    probes = [lat for at, lat in health if start <= at < end]
    answered = [lat for lat in probes if lat is not None]
    if not attempts:  # no recorder sent anything: nothing was acked in time
        attempts = [math.inf]
    return {
        "acked": len(acks),
        "p50_ms": percentile(attempts, 0.50),
        "p99_ms": percentile(attempts, 0.99),
        "p99_acked_ms": percentile(acks, 0.99),
        "failures": dict(failures.most_common()),
        "hellos": len(hellos),
        "hello_p99_ms": percentile(hellos, 0.99),
        "health_probes": len(probes),
        "health_failed": len(probes) - len(answered),
        "health_max_ms": max(answered, default=0.0) * 1000,
    }


def verdict(phase: Any) -> list[str]:
    """Why a phase misses the targets (empty: it meets them)."""
    problems = [n for n in phase.notes if "SERVER" in n or "cap" in n or "not run" in n]
    if phase.stats.get("p99_ms", math.inf) > MAX_P99_MS:
        problems.append(f"ack p99 {ms(phase.stats.get('p99_ms', math.inf))} > {MAX_P99_MS:.0f} ms")
    growth = phase.rss_peak_mb - phase.rss_base_mb
    if growth > MAX_GROWTH_MB:
        problems.append(f"RSS +{growth:.0f} MB > {MAX_GROWTH_MB:.0f} MB")
    return problems


def growth(now_mb: float, base_mb: float) -> str:
    return f"{now_mb - base_mb:+.0f} MB" if now_mb else "n/a (server down)"


def ms(value: float) -> str:
    return "no ack" if math.isinf(value) else f"{value:.1f} ms"


def server_log_summary(text: str) -> dict[str, int]:
    """Warnings, errors and exception lines of the server's log, alike ones
    (differing in ids and numbers) counted together; the 8 most frequent."""
    found: Counter[str] = Counter()
    for line in text.splitlines():
        if " WARNING " in line or " ERROR " in line:
            found[_VARIABLE.sub("#", line.split(" ", 2)[-1])[:140]] += 1
        elif re.match(r"^[A-Za-z_.]+(Error|Exception)\b", line):
            found[_VARIABLE.sub("#", line)[:140]] += 1
    return dict(found.most_common(8))


def print_report(result: dict[str, Any], args: argparse.Namespace) -> bool:
    """Every phase in full, then the table and the verdict; True if all pass."""
    for phase in result["phases"]:
        print_phase(phase)
    print(f"\nserver log (warnings, errors, exceptions): {result['server_log'] or 'none'}")
    print(f"restart on the same data: {result['restart']}")
    print(
        f"\n{args.recorders} recorders, {args.phase_seconds:.0f} s phases, attack scale "
        f"{args.scale}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit()}\n"
    )
    failed = print_table(result["phases"])
    print(
        f"\nverdict: {len(failed)} of {len(result['phases'])} phases miss the targets"
        f" (RSS growth <= {MAX_GROWTH_MB:.0f} MB, ack p99 <= {MAX_P99_MS:.0f} ms)"
        + (f": {', '.join(failed)}" if failed else "")
    )
    restarts = "DOES NOT" not in result["restart"]
    print(f"restart after the run: {'pass' if restarts else 'FAIL: ' + result['restart']}")
    return not failed and restarts


def print_phase(phase: Any) -> None:
    s = phase.stats
    print(f"\n== {phase.name}")
    if phase.notes:
        print(f"   notes: {'; '.join(phase.notes)}")
    if not s:
        return
    print(
        f"   recorders: {s['acked']} acked, p50 {ms(s['p50_ms'])}, p99 {ms(s['p99_ms'])}"
        f" (acked only {ms(s['p99_acked_ms'])}); hellos {s['hellos']}"
        f" (p99 {ms(s['hello_p99_ms'])}); failures {s['failures'] or 0}"
    )
    print(
        f"   /healthz: {s['health_probes']} probes, {s['health_failed']} failed,"
        f" slowest {s['health_max_ms']:.0f} ms"
    )
    print(
        f"   server RSS: {phase.rss_base_mb:.0f} MB at start, peak "
        f"{phase.rss_peak_mb - phase.rss_base_mb:+.0f} MB, after "
        f"{growth(phase.rss_end_mb, phase.rss_base_mb)}; peak per process (MB): "
        + ", ".join(f"{k} {v:.0f}" for k, v in sorted(phase.peak_by_process.items()))
    )
    if phase.attack:
        print(f"   attack: {phase.attack}")


def print_table(phases: list[Any]) -> list[str]:
    """The Markdown table; the names of the phases that miss a target."""
    print(
        "| phase | ack p50 | ack p99 | p99 acked only | acked | recorder failures "
        "| /healthz failed / slowest | RSS peak growth | RSS growth after | verdict |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    failed = []
    for phase in phases:
        s, problems = phase.stats, verdict(phase)
        if problems:
            failed.append(phase.name)
        if not s:
            print(f"| {phase.name} |" + " |" * 8 + f" FAIL: {'; '.join(problems)} |")
            continue
        print(
            f"| {phase.name} | {ms(s['p50_ms'])} | {ms(s['p99_ms'])} "
            f"| {ms(s['p99_acked_ms'])} | {s['acked']} | {sum(s['failures'].values())} "
            f"| {s['health_failed']} / {s['health_max_ms']:.0f} ms "
            f"| {phase.rss_peak_mb - phase.rss_base_mb:+.0f} MB "
            f"| {growth(phase.rss_end_mb, phase.rss_base_mb)} "
            f"| {'FAIL: ' + '; '.join(problems) if problems else 'pass'} |"
        )
    return failed


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "unknown"
