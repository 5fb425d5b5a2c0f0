"""Real server processes for tests: start on a free port, stop by pid."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "replay_server", *args],
            env=self.env,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr.decode()
        return result.stdout.decode()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(data_dir: Path, **extra_env: str) -> ServerProcess:
    port = free_port()
    env = {
        **os.environ,
        "REPLAY_DATA_DIR": str(data_dir),
        "REPLAY_HOST": "127.0.0.1",
        "REPLAY_PORT": str(port),
        **extra_env,
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "replay_server", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", data_dir, env, process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        if _answers_healthz(port):
            return server
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"server did not start:\n{server.log()}")


def _answers_healthz(port: int) -> bool:
    """Ready when a whole /healthz exchange is done and the server closed the
    connection. A bare TCP connect is not enough: on a loaded machine the server
    may accept that socket only later, and a test counting connections (the caps
    in test_conn_guard) would count it against its own."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError:
        return False
    return answer.startswith(b"HTTP/1.1 ")  # any answer: some tests start unhealthy nodes


def stored_chunk_path(data_dir: Path, sid: str, idx: int) -> Path:
    """The blob file of a session's chunk on an embedded-default server (its row
    in the SQLite database names the key under the local blob store)."""
    with sqlite3.connect(data_dir / "replay.db") as db:
        row = db.execute(
            "SELECT blob_key FROM chunks WHERE session_id = ? AND idx = ?", (sid, idx)
        ).fetchone()
    key: str = row[0]
    return data_dir / "blobs" / key


def stop_server(server: ServerProcess, sig: int = signal.SIGTERM) -> None:
    if server.process.poll() is None:
        server.process.send_signal(sig)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


CHROMIUM = "/usr/bin/chromium"  # Debian's; never `playwright install`
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def ws_url(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://") + "/ingest/ws"


def create_site_and_token(server: ServerProcess, origin: str) -> tuple[str, str]:
    """Through the CLI: an owner, a site recording `origin`, an API token.
    Returns (site key, token)."""
    server.cli(
        "create-user",
        "ops@acme.test",
        "--org",
        "Acme",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    site = json.loads(
        server.cli("create-site", "Shop", "--org", "Acme", "--origin", origin, "--json")
    )
    token = json.loads(server.cli("create-token", "ops@acme.test", "--json"))["token"]
    return site["public_key"], token


@contextlib.contextmanager
def python_script(source: str, directory: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `source` in a new interpreter, from the repository root, its stdout
    piped; killed (if still running) and reaped at the end."""
    root = Path(__file__).resolve().parents[1]
    script = directory / "script.py"
    script.write_text(source)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=root,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def survivors_of_a_killed_parent(
    parent: subprocess.Popen[bytes], children: list[int], timeout: float = 10.0
) -> list[int]:
    """SIGKILL `parent` (no chance to clean up), then wait up to `timeout` for
    `children` to go; return those still alive."""
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(c) for c in children):
        time.sleep(0.1)
    return [c for c in children if alive(c)]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status
