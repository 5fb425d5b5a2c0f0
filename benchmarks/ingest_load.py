"""Ingest load benchmark (issue 3).

N simulated recorders (default 2,000), each sending one batch per second of
real recorded rrweb events (tests/fixtures/shop_session.json.gz, replayed with
fresh timestamps), against a real `replay-server serve` process; and, in the
same run, against a bare aiohttp WebSocket server that only decodes and acks
(the ceiling). Prints achieved batches/s, p50/p99 ack latency, and server RSS
(idle per connection, and under load).

    .venv/bin/python benchmarks/ingest_load.py --connections 2000 --seconds 30

Everything runs on loopback; the client runs in its own process so that it
does not share the server's core.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgpack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.procs import ServerProcess, free_port, start_server, stop_server  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "shop_session.json.gz"
ORIGIN = "http://bench.client.test"
BATCH_TARGET_BYTES = 5_000


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def fixture_batches() -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The recording's opening (Meta + FullSnapshot) and ~5 KB batches of the rest."""
    events = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    opening = [e for e in events if e["type"] in (2, 4)]
    rest = [e for e in events if e["type"] not in (2, 4)]
    batches: list[list[dict[str, Any]]] = [[]]
    size = 0
    for event in rest:
        n = len(json.dumps(event))
        if size + n > BATCH_TARGET_BYTES and batches[-1]:
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += n
    return opening, batches


def stamped(events: list[dict[str, Any]], now_ms: int) -> list[dict[str, Any]]:
    return [{**e, "timestamp": now_ms + i} for i, e in enumerate(events)]


def hello_message(site_key: str, sid: str, vid: str, page: int = 0) -> dict[str, Any]:
    """A recorder's hello, as recorder.js sends it on a checkout page."""
    return {
        "t": "hello",
        "v": 1,
        "site": site_key,
        "sid": sid,
        "vid": vid,
        "page": page,
        "url": ORIGIN + "/checkout",
        "referrer": "",
        "title": "Checkout",
        "viewport": [1280, 800],
        "screen": [1920, 1080],
        "lang": "en",
        "tz": "UTC",
        "clock": int(time.time() * 1000),
    }


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    acked: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


async def recorder(
    url: str,
    site_key: str,
    seconds: float,
    rate: float,
    results: Results,
    opening: list[dict[str, Any]],
    batches: list[list[dict[str, Any]]],
    start_at: float,
    ready: asyncio.Event,
) -> None:
    sid, vid = str(uuid.uuid4()), str(uuid.uuid4())
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers={"Origin": ORIGIN}, max_msg_size=0, autoping=True) as ws,
    ):
        await ws.send_bytes(msgpack.packb(hello_message(site_key, sid, vid)))
        welcome = await ws.receive()
        if welcome.type != aiohttp.WSMsgType.BINARY:
            results.error(f"hello: {welcome.type.name} {ws.close_code}")
            return
        await ready.wait()
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        interval = 1.0 / rate
        next_send = time.monotonic()
        end = time.monotonic() + seconds
        seq = 0
        while time.monotonic() < end:
            now_ms = int(time.time() * 1000)
            events = opening if seq == 0 else batches[seq % len(batches)]
            frame = msgpack.packb(
                {"t": "batch", "seq": seq, "page": 0, "events": stamped(events, now_ms)}
            )
            sent = time.perf_counter()
            await ws.send_bytes(frame)
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.BINARY:
                results.error(f"batch: {msg.type.name} {ws.close_code}")
                return
            reply = msgpack.unpackb(msg.data)
            if reply.get("t") == "ack":
                results.latencies.append(time.perf_counter() - sent)
                results.sent_at.append(sent)
                results.acked += 1
            else:
                results.error(f"reply {reply.get('t')}: {reply.get('code')}")
            seq += 1
            next_send += interval
            await asyncio.sleep(max(0.0, next_send - time.monotonic()))


def rss_kb(pid: int) -> int:
    """RSS of the server process and its children (chunk workers)."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [int(c) for c in found]


async def run_load(url: str, site_key: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    opening, batches = fixture_batches()
    results = Results()
    ready = asyncio.Event()
    base_rss = rss_kb(pid)
    start_at = time.monotonic() + 5 + args.connections / 400
    tasks = []
    for i in range(args.connections):
        tasks.append(
            asyncio.create_task(
                recorder(
                    url,
                    site_key,
                    args.seconds,
                    args.rate,
                    results,
                    opening,
                    batches,
                    start_at + (args.ramp or 1.0 / args.rate) * i / args.connections,
                    ready,
                )
            )
        )
        if i % 200 == 199:
            await asyncio.sleep(0.2)
    await asyncio.sleep(max(0.0, start_at - time.monotonic() - 1))
    idle_rss = rss_kb(pid)
    ready.set()
    began = time.monotonic()
    peak_rss = 0
    samples: list[int] = []

    async def sample_rss() -> None:
        nonlocal peak_rss
        while True:
            samples.append(rss_kb(pid) // 1024)
            peak_rss = max(peak_rss, samples[-1] * 1024)
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample_rss())
    done = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.monotonic() - began
    await asyncio.sleep(5)  # recorders gone: the server chunks what they sent
    sampler.cancel()
    failures = [d for d in done if isinstance(d, BaseException)]
    for failure in failures:
        kind = f"exception {type(failure).__name__}"
        results.error_kinds[kind] = results.error_kinds.get(kind, 0) + 1
    windows: dict[int, list[float]] = {}
    for at, latency in zip(results.sent_at, results.latencies, strict=True):
        windows.setdefault(int((at - start_at) // 5), []).append(latency)
    p99_by_5s = [round(percentile(sorted(w), 0.99), 1) for _, w in sorted(windows.items())]
    # Steady state: every recorder has sent its opening snapshot and none has stopped.
    steady_from, steady_to = start_at + args.ramp, start_at + args.seconds
    steady = sorted(
        latency
        for at, latency in zip(results.sent_at, results.latencies, strict=True)
        if steady_from <= at < steady_to
    )
    ramp = sorted(
        latency
        for at, latency in zip(results.sent_at, results.latencies, strict=True)
        if at < steady_from
    )
    return {
        "connections": args.connections,
        "batches_per_s": len(steady) / (steady_to - steady_from),
        "elapsed_s": elapsed,
        "p50_ms": percentile(steady, 0.50),
        "p99_ms": percentile(steady, 0.99),
        "mean_ms": statistics.fmean(steady) * 1000 if steady else 0.0,
        "ramp_p99_ms": percentile(ramp, 0.99),
        "errors": results.errors + len(failures),
        "error_kinds": results.error_kinds,
        "rss_idle_kb_per_conn": (idle_rss - base_rss) / args.connections,
        "rss_mb_peak": peak_rss / 1024,
        "rss_mb_after": rss_kb(pid) / 1024,
        "rss_mb_timeline": samples,
        "p99_ms_by_5s": p99_by_5s,
    }


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted latencies in seconds, in ms."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def start_bare() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "bare_ack_server.py"), str(port)],
        preexec_fn=raise_fd_limit,
    )
    time.sleep(1.5)
    return proc, port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process and its children (chunk and
    frame workers), which live as long as the server."""
    return sum(cpu_by_process(pid).values())


def cpu_by_process(pid: int) -> dict[str, float]:
    """CPU seconds of the server and of each child, named by what it runs."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for p in [pid, *children(pid)]:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            cmdline = Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        except FileNotFoundError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        name = "server"
        if p != pid:
            name = (
                "frame worker" if "prep.worker" in cmdline
                else "chunk worker" if "spawn_main" in cmdline
                else "multiprocessing tracker" if "resource_tracker" in cmdline
                else f"child {p}"
            )  # fmt: skip
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return out


def wait_idle(pid: int, limit_s: float = 60.0, busy: float = 0.05) -> None:
    """Until the server has used under `busy` of a core for 3 seconds running."""
    deadline = time.monotonic() + limit_s
    quiet = 0
    last = cpu_seconds(pid)
    while quiet < 3 and time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        quiet = quiet + 1 if now - last < busy else 0
        last = now


def start_replay(data_dir: Path, **extra_env: str) -> tuple[ServerProcess, str]:
    server = start_server(
        data_dir,
        REPLAY_RATE_PER_IP="0",
        REPLAY_RATE_PER_SITE="0",
        REPLAY_LOG_LEVEL="warning",
        **extra_env,
    )
    try:
        server.cli(
            "create-user",
            "bench@x.test",
            "--org",
            "Bench",
            "--password-stdin",
            stdin="benchmark password\n",
        )
        site = json.loads(
            server.cli("create-site", "Bench", "--org", "Bench", "--origin", ORIGIN, "--json")
        )
    except BaseException:
        stop_server(server)  # never leave a server running behind a failed set-up
        raise
    return server, site["public_key"]


def client_main(args: argparse.Namespace) -> None:
    raise_fd_limit()
    result = asyncio.run(run_load(args.url, args.site_key, args.pid, args))
    print(json.dumps(result))


def run_client(url: str, site_key: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            "--url",
            url,
            "--site-key",
            site_key,
            "--pid",
            str(pid),
            "--connections",
            str(args.connections),
            "--seconds",
            str(args.seconds),
            "--rate",
            str(args.rate),
            "--ramp",
            str(args.ramp),
        ],
        capture_output=True,
        check=True,
        preexec_fn=raise_fd_limit,
    )
    result: dict[str, Any] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return result


def run_replay(args: argparse.Namespace, extra_env: dict[str, str]) -> dict[str, Any]:
    """The load against a fresh `replay-server serve` (extra_env: REPLAY_*
    settings), with the server's CPU seconds over the client's run."""
    with tempfile.TemporaryDirectory() as tmp:
        server, key = start_replay(Path(tmp) / "data", **extra_env)
        try:
            pid = server.process.pid
            before, began = cpu_by_process(pid), time.monotonic()
            result = run_client(server.url.replace("http", "ws") + "/ingest/ws", key, pid, args)
            wait_idle(pid)  # the last chunks are cut up to CHUNK_MAX_AGE_SECONDS later
            after = cpu_by_process(pid)
            by_process = {n: round(s - before.get(n, 0.0), 1) for n, s in after.items()}
            result["server_cpu_by_process"] = by_process
            result["server_cpu_s"] = sum(by_process.values())
            result["cpu_window_s"] = time.monotonic() - began
        finally:
            stop_server(server)
            report_server_log(server.log())
    return result


def report_server_log(log: str) -> None:
    """How many warnings and errors the server logged, and the first one in full."""
    lines = log.splitlines()
    flagged = [i for i, line in enumerate(lines) if " WARNING " in line or " ERROR " in line]
    if flagged:
        first = flagged[0]
        end = next((i for i in flagged if i > first), len(lines))
        print(f"server log: {len(flagged)} warnings/errors; the first (and its last lines):")
        print("\n".join([lines[first], *lines[max(first + 1, end - 6) : end]]))


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:>8}: {r['batches_per_s']:8.1f} batches/s  p50 {r['p50_ms']:7.1f} ms  "
        f"p99 {r['p99_ms']:7.1f} ms  (ramp p99 {r['ramp_p99_ms']:.1f} ms)  errors {r['errors']}  "
        f"RSS idle {r['rss_idle_kb_per_conn']:.1f} KB/conn  "
        f"peak {r['rss_mb_peak']:.0f} MB  after {r['rss_mb_after']:.0f} MB"
    )
    print(f"{'':>8}  p99 per 5 s window from the first start (ms): {r['p99_ms_by_5s']}")
    if r["error_kinds"]:
        print(f"{'':>8}  errors: {r['error_kinds']}")
    if "server_cpu_s" in r:
        print(
            f"{'':>8}  server CPU (server and workers): {r['server_cpu_s']:.1f} s over "
            f"{r['cpu_window_s']:.0f} s ({r['server_cpu_s'] / r['cpu_window_s']:.2f} cores): "
            + ", ".join(f"{n} {v:.1f} s" for n, v in r["server_cpu_by_process"].items())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="how long each recorder sends batches"
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=20.0,
        help="recorders start (hello, opening snapshot) spread over this many seconds; "
        "latency and throughput are measured after it, while all recorders send",
    )
    parser.add_argument("--rate", type=float, default=1.0, help="batches per second per recorder")
    parser.add_argument("--only", choices=["replay", "bare"], default=None)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--site-key", help=argparse.SUPPRESS)
    parser.add_argument("--pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_fd_limit()  # children (servers, client) inherit it
    if args.client:
        client_main(args)
        return
    results: dict[str, dict[str, Any]] = {}
    if args.only in (None, "bare"):
        proc, port = start_bare()
        try:
            results["bare"] = run_client(f"ws://127.0.0.1:{port}/ws", "pk_bare", proc.pid, args)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        show("bare", results["bare"])
    if args.only in (None, "replay"):
        results["replay"] = run_replay(args, {})
        show("replay", results["replay"])
    if len(results) == 2:
        ratio = results["replay"]["batches_per_s"] / results["bare"]["batches_per_s"]
        print(f"throughput ratio replay/bare: {ratio:.2f}")
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
