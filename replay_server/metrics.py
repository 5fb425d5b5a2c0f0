"""Prometheus metrics of one app instance (its own registry: no globals, so
several apps in one process, as in tests, never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "replay_ingest_connections", "Open recorder WebSocket connections", registry=r
        )
        self.batches = Counter(
            "replay_ingest_batches",
            "Batches received, by result (stored, duplicate)",
            ["result"],
            registry=r,
        )
        self.bytes_in = Counter(
            "replay_ingest_received_bytes", "Bytes of recorder frames and bodies", registry=r
        )
        self.bytes_out = Counter(
            "replay_ingest_sent_bytes", "Bytes of frames sent to recorders", registry=r
        )
        self.ack_latency = Histogram(
            "replay_ingest_ack_latency_seconds",
            "From a batch frame's arrival to its ack (durable)",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "replay_ingest_errors", "Errors reported to recorders, by code", ["code"], registry=r
        )
        self.chunks = Counter("replay_chunks_written", "Chunks stored", registry=r)
        self.chunk_bytes = Counter(
            "replay_chunk_stored_bytes", "Compressed bytes of stored chunks", registry=r
        )
        self.spool_pending_batches = Gauge(
            "replay_spool_pending_batches", "Acked batches not yet in stored chunks", registry=r
        )
        self.spool_segments = Gauge(
            "replay_spool_segments", "Spool segment files in use", registry=r
        )
        self.spool_write_failures = Counter(
            "replay_spool_write_failures",
            "Batches refused with storage_unavailable (1013/503) because the spool "
            "could not write them: disk full or failing",
            registry=r,
        )
        self.quarantined_batches = Counter(
            "replay_quarantined_batches",
            "Acked batches that could not be chunked, kept aside in the session's "
            "storage prefix and reported as missing",
            registry=r,
        )
        self.masked_values = Counter(
            "replay_ingest_masked_values",
            "Input values (and, for sites masking all text, texts) the server masked "
            "because the recorder sent them unmasked",
            registry=r,
        )
