"""Hostile-input benchmark (issue 13).

Starts a real `replay-server serve` (default settings, data in a temporary
folder, the common soft limit of 1,024 open files), sets up a site through the
CLI and runs 200 well-behaved recorders (benchmarks/hostile_recorders.py, their
own process) for the whole run. Then, in phases of `--phase-seconds`: a
baseline without attack, each attack of benchmarks/hostile_attacks.py (its own
process) while the recorders keep sending, and a last phase without attack
(what the attacks left behind). Per phase: the recorders' ack p50/p99 (a batch
that got no ack counts as slower than any), their failures, /healthz, the
server tree's RSS (the server and its worker processes, sampled every 0.25 s)
at its peak and after the phase, and what the server answered the attacker.
At the end the server is stopped and started again on the same data.

    .venv/bin/python benchmarks/hostile.py            # ~5 minutes
    .venv/bin/python benchmarks/hostile.py --quick    # ~2 minutes, smaller
    .venv/bin/python benchmarks/hostile.py --attacks inflation,idle-flood

Targets: no attack raises the server tree's RSS by more than 100 MB or the
recorders' ack p99 above 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.hostile_attacks import ATTACKS
from benchmarks.hostile_report import phase_stats, print_report, server_log_summary
from benchmarks.ingest_load import ORIGIN, children, rss_kb
from tests.procs import ServerProcess, create_site_and_token, start_server, stop_server, ws_url

HERE = Path(__file__).resolve().parent
SAMPLE_SECONDS = 0.25
HEALTH_TIMEOUT = 5.0


@dataclass
class Phase:
    name: str
    start: float = 0.0
    end: float = 0.0
    rss_base_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_end_mb: float = 0.0
    peak_by_process: dict[str, float] = field(default_factory=dict)
    attack: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


class Monitor:
    """Samples the server tree's RSS and probes /healthz, in the background."""

    def __init__(self, server: ServerProcess, rss_cap_mb: float) -> None:
        self.server = server
        self.pid = server.process.pid
        self.rss: list[tuple[float, float, dict[str, float]]] = []  # (at, MB, MB by process)
        self.health: list[tuple[float, float | None]] = []  # (at, latency s or None)
        self.cap_mb = rss_cap_mb
        self.over_cap = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._sample()), asyncio.create_task(self._probe())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def now_mb(self) -> float:
        return self.rss[-1][1] if self.rss else rss_kb(self.pid) / 1024

    def between(self, start: float, end: float) -> list[tuple[float, float, dict[str, float]]]:
        return [s for s in self.rss if start <= s[0] <= end]

    async def _sample(self) -> None:
        while True:
            by_process = {role(p): rss_kb(p) / 1024 for p in children(self.pid)}
            total = rss_kb(self.pid) / 1024
            by_process["server"] = total - sum(by_process.values())
            self.rss.append((time.monotonic(), total, by_process))
            if total > self.cap_mb:
                self.over_cap.set()
            if total > 2 * self.cap_mb and self.server.process.poll() is None:
                # The attacker is gone and the server still grows: protect the machine.
                self.server.process.kill()
            await asyncio.sleep(SAMPLE_SECONDS)

    async def _probe(self) -> None:
        timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                sent = time.monotonic()
                try:
                    async with http.get(self.server.url + "/healthz") as response:
                        await response.read()
                        ok = response.status == 200
                except (TimeoutError, aiohttp.ClientError, OSError):
                    ok = False
                self.health.append((sent, time.monotonic() - sent if ok else None))
                await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - sent)))


def role(pid: int) -> str:
    """A worker process's role, from its command line."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"pid {pid}"
    for needle, name in (
        ("frame_worker", "frame worker"),
        ("resource_tracker", "resource tracker"),
        ("multiprocessing", "chunk worker"),
    ):
        if needle in cmd:
            return f"{name} {pid}"
    return f"pid {pid}"


async def python(*args: str, stdout: int | None = subprocess.PIPE) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=stdout, start_new_session=True
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float) -> bytes:
    """Its stdout once it exits; killed (and its output so far) after `timeout`."""
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        return out or b""
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return b""


async def run_phase(
    name: str, server: ServerProcess, key: str, monitor: Monitor, args: argparse.Namespace
) -> Phase:
    phase = Phase(name, rss_base_mb=monitor.now_mb())
    phase.start = time.monotonic()
    attacker = await start_attacker(name, server, key, args) if name in ATTACKS else None
    deadline = phase.start + args.phase_seconds
    monitor.over_cap.clear()
    while time.monotonic() < deadline and server.process.poll() is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(monitor.over_cap.wait(), 0.25)
        if monitor.over_cap.is_set():
            phase.notes.append(f"server tree over the {args.rss_cap_mb:.0f} MB safety cap")
            break
    if attacker is not None:
        if monitor.over_cap.is_set() or server.process.poll() is not None:
            attacker.kill()
            phase.notes.append("attacker stopped early")
        await collect_attacker(phase, attacker)
    phase.end = time.monotonic()
    await asyncio.sleep(args.settle)
    if server.process.poll() is not None:
        phase.notes.append(f"SERVER EXITED (code {server.process.returncode})")
    samples = monitor.between(phase.start, time.monotonic())
    phase.rss_end_mb = monitor.now_mb()
    phase.rss_peak_mb = max((s[1] for s in samples), default=phase.rss_end_mb)
    for _at, _total, by_process in samples:
        for proc, mb in by_process.items():
            phase.peak_by_process[proc] = max(phase.peak_by_process.get(proc, 0.0), mb)
    return phase


async def start_attacker(
    name: str, server: ServerProcess, key: str, args: argparse.Namespace
) -> asyncio.subprocess.Process:
    script = str(HERE / "hostile_attacks.py")
    return await python(
        *(script, name, "--url", server.url, "--site-key", key),
        *("--seconds", str(args.phase_seconds), "--scale", str(args.scale)),
    )


async def collect_attacker(phase: Phase, attacker: asyncio.subprocess.Process) -> None:
    """The attack's own report (it stops by itself; killed a minute after its time)."""
    out = await finish(attacker, 60)
    lines = out.decode(errors="replace").strip().splitlines()
    if attacker.returncode == 0 and lines:
        phase.attack = json.loads(lines[-1])
    else:
        phase.notes.append(f"attacker exited with {attacker.returncode}")


async def start_recorders(
    server: ServerProcess, key: str, out: Path, args: argparse.Namespace
) -> asyncio.subprocess.Process:
    recorders = await python(
        str(HERE / "hostile_recorders.py"),
        "--url",
        ws_url(server),
        "--site-key",
        key,
        "--recorders",
        str(args.recorders),
        "--page-seconds",
        str(args.page_seconds),
        "--out",
        str(out),
        "--max-seconds",  # it stops by itself should this process die
        str(args.warmup + (len(args.attacks) + 2) * (args.phase_seconds + args.settle + 90)),
    )
    assert recorders.stdout is not None
    line = await asyncio.wait_for(recorders.stdout.readline(), 120)
    print(f"recorders: {line.decode().strip() or 'no answer'} of {args.recorders}", flush=True)
    return recorders


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    server = start_server(tmp / "data")
    try:
        key, _token = create_site_and_token(server, ORIGIN)
    except BaseException:
        stop_server(server)
        raise
    print(f"server: {server.url}, {open_files(server.process.pid)}", flush=True)
    monitor = Monitor(server, args.rss_cap_mb)
    monitor.start()
    log_path = tmp / "recorders.json"
    phases: list[Phase] = []
    recorders = None
    try:
        recorders = await start_recorders(server, key, log_path, args)
        await asyncio.sleep(args.warmup)
        for name in ["baseline", *args.attacks, "after"]:
            if server.process.poll() is not None:
                phases.append(Phase(name, notes=["not run: the server is down"]))
                continue
            print(f"phase {name} ...", flush=True)
            phases.append(await run_phase(name, server, key, monitor, args))
    finally:
        if recorders is not None:
            with contextlib.suppress(ProcessLookupError):
                recorders.send_signal(signal.SIGTERM)
            await finish(recorders, 30)
        await monitor.stop()
        await asyncio.to_thread(stop_server, server)
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    for phase in phases:
        if phase.end:
            phase.stats = phase_stats(log, monitor.health, phase.start, phase.end)
    return {
        "phases": phases,
        "restart": await asyncio.to_thread(restart_check, tmp / "data"),
        "server_log": server_log_summary(server.log()),
    }


def open_files(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return f"open files limit {soft} (hard {hard})"
    return "open files limit unknown"


def restart_check(data_dir: Path) -> str:
    """Whether the server starts again on the data the run left behind."""
    started = time.monotonic()
    try:
        again = start_server(data_dir)
    except RuntimeError as e:
        last = [line for line in str(e).splitlines() if line.strip()][-1:]
        return f"DOES NOT START: {last[0] if last else e}"[:300]
    stop_server(again)
    return f"starts again ({time.monotonic() - started:.1f} s to listen)"


def lower_fd_limit(soft: int) -> None:
    """The server inherits it: most systems give a service 1,024 open files
    unless told otherwise (the fix raises the soft limit at start)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft > 0:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard), hard))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recorders", type=int, default=200)
    parser.add_argument("--phase-seconds", type=float, default=25.0)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between phases")
    parser.add_argument(
        "--warmup", type=float, default=12.0, help="after the recorders start (workers spawn)"
    )
    parser.add_argument("--page-seconds", type=float, default=10.0, help="recorders navigate")
    parser.add_argument("--scale", type=float, default=1.0, help="attack sockets and rates")
    parser.add_argument("--attacks", default=",".join(ATTACKS), help="comma-separated subset")
    parser.add_argument("--server-nofile", type=int, default=1024, help="0: inherit")
    parser.add_argument("--rss-cap-mb", type=float, default=3000.0, help="safety stop")
    parser.add_argument("--quick", action="store_true", help="50 recorders, 8 s phases, 0.2x")
    parser.add_argument("--json", type=Path, help="write every figure here too")
    if parser.parse_args().quick:  # flags given as well still win
        parser.set_defaults(recorders=50, phase_seconds=8.0, settle=3.0, warmup=10.0, scale=0.2)
    args = parser.parse_args()
    args.attacks = [a for a in args.attacks.split(",") if a]
    unknown = set(args.attacks) - set(ATTACKS)
    if unknown:
        parser.error(f"unknown attacks: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    args = parse_args()
    lower_fd_limit(args.server_nofile)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        result = asyncio.run(bench(args, Path(tmp)))
    ok = print_report(result, args)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"run took {time.monotonic() - started:.0f} s; {os.cpu_count()} cores; load {load}")
    if args.json:
        args.json.write_text(json.dumps(result, default=vars, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
