"""Settings, declared once as data: each field has its default and help text.

`Settings.from_env()` reads `REPLAY_<FIELD>` variables and, when
`REPLAY_CONFIG_FILE` names one, a TOML file whose keys are the field names.
Environment variables win over the file. Nothing else in the package reads the
environment.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replay_server.errors import ConfigError

ENV_PREFIX = "REPLAY_"
CONFIG_FILE_VAR = "REPLAY_CONFIG_FILE"


def setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = setting(
        Path("./replay-data"),
        "Directory for the embedded database, local blobs, the spool and the secret key.",
    )
    database_url: str = setting(
        "",
        "SQLAlchemy URL. Empty: SQLite at DATA_DIR/replay.db. "
        "At scale: postgresql+asyncpg://user:pass@host/db.",
    )
    storage_url: str = setting(
        "",
        "Where compressed chunks go. Empty: file:// under DATA_DIR/blobs. "
        "s3://bucket/prefix for any S3-compatible store.",
    )
    s3_endpoint_url: str = setting(
        "", "Endpoint of an S3-compatible store (MinIO, R2, Ceph...). Empty: AWS."
    )
    redis_url: str = setting(
        "", "Redis URL; when set, live view works across several server nodes."
    )
    s3_max_connections: int = setting(
        16, "Threads (one HTTP connection each) for S3 calls of one node."
    )
    db_pool_size: int = setting(
        10, "PostgreSQL: connections each node keeps open (not used with SQLite)."
    )
    db_max_overflow: int = setting(
        10, "PostgreSQL: extra connections a node may open under load, beyond DB_POOL_SIZE."
    )
    ack_mode: str = setting(
        "spool",
        "When a batch is acked. spool: once it is fsync'd in this node's spool (fast; "
        "batches not yet chunked live only on this node's disk). storage: once it is "
        "stored as a chunk in the blob store and the database (no node-local state; "
        "more, smaller objects).",
    )
    secret_key: str = setting(
        "",
        "Secret for signing CSRF tokens. Empty: generated once and kept in DATA_DIR/secret_key.",
    )
    host: str = setting("127.0.0.1", "Address `serve` listens on.")
    port: int = setting(8321, "Port `serve` listens on.")
    metrics_token: str = setting(
        "",
        "When set, `GET /metrics` answers only requests with `Authorization: Bearer` and "
        "this token (for Prometheus' `authorization` scrape option).",
    )
    metrics_public: bool = setting(
        False,
        "Without METRICS_TOKEN, `/metrics` is served only when the server listens on a "
        "loopback address and the request did not come through a proxy (else 404); "
        "true serves it to anyone.",
    )
    public_url: str = setting(
        "",
        "The URL visitors' browsers reach this server at (for the snippet). "
        "Empty: http://HOST:PORT.",
    )
    trusted_proxies: str = setting(
        "",
        "Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed.",
    )
    geoip_mmdb: str = setting(
        "",
        "Path of a MaxMind-format country database (GeoLite2-Country, GeoIP2-Country, "
        "DB-IP country lite) for a session's country; addresses it does not know fall "
        "back to the built-in table. Empty: the built-in offline table (iptocc) only. "
        "Opened at start-up: a missing or invalid file stops the server.",
    )
    log_level: str = setting("info", "Logging level: debug, info, warning or error.")
    chunk_max_bytes: int = setting(
        2 * 1024 * 1024,
        "A page's pending events are cut into a chunk once their msgpack size reaches this.",
    )
    chunk_max_age_seconds: float = setting(
        30.0, "Pending events are cut into a chunk at the latest this long after they arrived."
    )
    chunk_workers: int = setting(
        1,
        "Processes that build chunks (decode, analyse, compress) beside the server's "
        "event loop. 0: build in a thread of the server process instead, for a "
        "one-core machine; acks then wait longer while chunks are built.",
    )
    insights: bool = setting(
        True,
        "Count what visitors do into the insight reports (overview statistics, heatmaps, "
        "frustration) as chunks are stored. Off: no rollups are kept; replays and the "
        "session search are unaffected; `replay-server insights rebuild` counts later.",
    )
    ingest_workers: int = setting(
        1,
        "Processes that decode, validate and mask recorded batches beside the server's "
        "event loop, which then only moves bytes and acks; each session is pinned to one. "
        "One is enough for ~2,000 recorders; add one per further core. 0: do that work "
        "on the event loop instead, for a one-core machine; acks then wait longer under load.",
    )
    spool_segment_bytes: int = setting(
        64 * 1024 * 1024, "Size at which the write-ahead spool starts a new segment file."
    )
    max_frame_bytes: int = setting(
        4 * 1024 * 1024, "Largest WebSocket frame or POST /ingest/batch body accepted."
    )
    max_batch_bytes: int = setting(16 * 1024 * 1024, "Largest batch after decompression.")
    max_events_per_batch: int = setting(10_000, "Most rrweb events accepted in one batch.")
    max_tree_depth: int = setting(
        245,
        "Deepest node nesting kept in a snapshot or added subtree (the document is level 0, "
        "<body> level 2); nodes at this depth lose their children (marked data-rs-pruned). "
        "Whatever it says, events nested more than 500 levels deep are refused (each node "
        "level costs two: its map and its childNodes): deeper data could not be stored "
        "and read back by every stage.",
    )
    max_items_per_batch: int = setting(
        500_000,
        "Most containers plus values in one batch once decoded (a 10,000-node page's "
        "snapshot holds about 100,000). Decoding stops at this count, so a small frame "
        "that inflates to millions of empty maps costs little.",
    )
    max_string_length: int = setting(
        1024 * 1024, "Longest text or attribute value (characters) accepted in an event."
    )
    max_seq_jump: int = setting(100_000, "Largest step of a batch seq over the last acked seq.")
    max_clock_skew_seconds: float = setting(
        86_400.0,
        "Events whose timestamps lie further than this from the server's clock "
        "(after the recorder's own clock skew is allowed for) are refused.",
    )
    max_session_bytes: int = setting(
        256 * 1024 * 1024, "Most uncompressed event bytes stored for one session."
    )
    max_session_seconds: float = setting(
        6 * 3600.0, "Longest a session may record, from its first hello."
    )
    max_pending_bytes: int = setting(
        512 * 1024 * 1024,
        "Acked but not yet chunked bytes across all sessions of a node; above it, "
        "acks wait for chunking to catch up (backpressure instead of unbounded growth).",
    )
    rate_per_ip: float = setting(
        50.0,
        "Hellos of sessions new to this node, per second per client IP (0: no limit). "
        "A hello of a session the node saw in the last minutes (a reconnect, the next page, "
        "an HTTP fallback request) is not counted: this limits abuse, not visitors behind "
        "one address. Over it: 429 / 4429 rate_limited.",
    )
    rate_burst_per_ip: float = setting(
        2000.0, "Burst allowance above RATE_PER_IP (a reconnect storm of a carrier NAT)."
    )
    rate_connects_per_ip: float = setting(
        100.0,
        "Recorder WebSockets opened per second per client IP (0: no limit). "
        "Over it: 4429 rate_limited.",
    )
    rate_burst_connects_per_ip: float = setting(
        2000.0, "Burst allowance above RATE_CONNECTS_PER_IP."
    )
    rate_per_session: float = setting(
        10.0,
        "Recorder messages per second per session (0: no limit). A session over it is "
        "slowed (its next message waits for its turn), not other sessions.",
    )
    rate_burst_per_session: float = setting(
        300.0, "Burst allowance above RATE_PER_SESSION (batches resent after a reconnect)."
    )
    rate_bytes_per_session: float = setting(
        512.0 * 1024, "Recorder bytes (as sent) per second per session (0: no limit)."
    )
    rate_burst_bytes_per_session: float = setting(
        16.0 * 1024 * 1024,
        "Burst allowance above RATE_BYTES_PER_SESSION (the recorder holds up to 16 MiB).",
    )
    rate_per_site: float = setting(
        5000.0, "Recorder messages per second allowed per site (0: no limit)."
    )
    rate_burst_per_site: float = setting(20_000.0, "Burst allowance above RATE_PER_SITE.")
    rate_bytes_per_site: float = setting(
        64.0 * 1024 * 1024, "Recorder bytes (as sent) per second per site (0: no limit)."
    )
    rate_burst_bytes_per_site: float = setting(
        256.0 * 1024 * 1024, "Burst allowance above RATE_BYTES_PER_SITE."
    )
    rate_max_wait_seconds: float = setting(
        5.0,
        "A message over its session's or site's rate waits up to this long for its turn; "
        "one that would wait longer is refused (429 / 4429 rate_limited).",
    )
    max_connections: int = setting(
        0,
        "Open TCP connections a node accepts; more are answered 429 server_busy and "
        "closed at once. 0: the file descriptor limit `serve` runs with, less 256 kept "
        "for files, the database and workers.",
    )
    max_connections_per_ip: int = setting(
        4000,
        "Open connections per client IP: TCP connections from one untrusted peer, and "
        "recorder connections per visitor address behind REPLAY_TRUSTED_PROXIES. "
        "Over it: 429 / 4429 too_many_connections. Several thousand lets 1,000 visitors "
        "share one carrier NAT (0: no limit).",
    )
    max_hello_frame_bytes: int = setting(
        64 * 1024,
        "Largest WebSocket frame accepted before the server's welcome (only the hello "
        "comes then). Over it: 4413 frame_too_large.",
    )
    max_inflight_bytes: int = setting(
        48 * 1024 * 1024,
        "Bytes of unfinished WebSocket frames and POST /ingest/batch bodies a node holds "
        "at once (as their headers announce them). One that would go over is refused: "
        "429 / 4429 server_busy. Messages of at most 64 KiB (most recorder batches) may "
        "use half as much again, so big unfinished frames cannot block them.",
    )
    hello_timeout_seconds: float = setting(
        10.0, "A recorder WebSocket must send its hello within this long: 4408 hello_timeout."
    )
    ws_idle_timeout_seconds: float = setting(
        600.0,
        "A welcomed recorder WebSocket that sends no frame for this long is closed with "
        "4408 idle_timeout (the recorder reconnects when it has something to send; "
        "nothing unacked is lost). 0: never.",
    )
    frame_timeout_seconds: float = setting(
        60.0,
        "A WebSocket frame or POST /ingest/batch body must arrive in full within this long "
        "of its first byte: 4408 / 408 frame_timeout.",
    )
    http_header_timeout_seconds: float = setting(
        10.0,
        "A connection's first request headers must arrive in full within this long of "
        "its opening, later ones within this long of their first byte; slower "
        "connections are closed.",
    )
    http_keepalive_seconds: float = setting(
        75.0,
        "An HTTP connection without a request (before the first one, or between "
        "keep-alive requests) is closed after this long. Keep it above the idle timeout "
        "of a reverse proxy's upstream connections.",
    )
    shutdown_timeout_seconds: float = setting(
        30.0, "On SIGTERM/SIGINT, how long to wait for connections and chunking to finish."
    )
    log_format: str = setting("text", "Log format: text, or json (one object per line).")
    session_bye_idle_seconds: float = setting(
        60.0,
        "A session whose last page said `bye` (left) and that no page continues "
        "within this long is finished.",
    )
    session_idle_timeout_seconds: float = setting(
        1800.0, "A session without new batches for this long is finished."
    )
    ws_heartbeat_seconds: float = setting(
        30.0, "Ping interval of recorder WebSockets; a peer that misses a pong is dropped."
    )
    login_cookie_days: int = setting(14, "How long a dashboard login lasts.")
    insights_retention_days: int = setting(
        400,
        "Days the insight rollups (per-day counts, no visitor or session ids) are kept, "
        "whatever the sites' session retention; the retention sweep deletes older days.",
    )
    retention_sweep_seconds: float = setting(
        3600.0,
        "How often the server deletes sessions older than their site's retention_days "
        "(the first sweep runs a minute after start-up; 0: never, use `replay-server retention`).",
    )
    login_failures_per_account_and_ip: int = setting(
        5,
        "Wrong passwords allowed for one account from one client IP within "
        "LOGIN_FAILURE_WINDOW_SECONDS; further attempts from that address at that account "
        "are refused with 429 until the window has passed (0: no limit).",
    )
    login_failures_per_account: int = setting(
        10,
        "Wrong passwords allowed for one account from all addresses together within "
        "LOGIN_FAILURE_WINDOW_SECONDS; beyond it, only addresses that failed on that account "
        "recently are refused (an address that never failed still signs in: nobody can lock "
        "an account out) (0: no limit).",
    )
    login_failures_per_ip: int = setting(
        20,
        "Wrong passwords allowed from one client IP (any account) within "
        "LOGIN_FAILURE_WINDOW_SECONDS (0: no limit).",
    )
    login_failure_window_seconds: float = setting(
        60.0, "The sliding window over which failed logins are counted."
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'replay.db').resolve()}"

    @property
    def effective_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.data_dir / "blobs").resolve().as_uri()

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def fields_with_help(cls) -> list[tuple[str, str, Any, str]]:
        """(env var, field name, default, help) for every setting, for docs and tests."""
        return [
            (ENV_PREFIX + f.name.upper(), f.name, f.default, f.metadata["help"])
            for f in dataclasses.fields(cls)
        ]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        config_file = env.get(CONFIG_FILE_VAR)
        if config_file:
            raw.update(_read_toml(Path(config_file)))
        for f in dataclasses.fields(cls):
            value = env.get(ENV_PREFIX + f.name.upper())
            if value is not None:
                raw[f.name] = value
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        values = {name: _coerce(name, known[name].default, raw[name]) for name in raw}
        return cls(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from e


def _coerce(name: str, default: Any, value: Any) -> Any:
    env_name = ENV_PREFIX + name.upper()
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, Path):
            return Path(str(value))
        return str(value)
    except ValueError as e:
        raise ConfigError(f"{env_name}: {e}") from e
