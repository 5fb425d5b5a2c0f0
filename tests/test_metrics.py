"""Metrics belong to one app instance: two apps in one process never share
counters, and every metric is exported under its documented name."""

from __future__ import annotations

from prometheus_client import generate_latest

from replay_server.metrics import Metrics


def test_each_instance_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.batches.labels(result="stored").inc(3)
    first.connections.inc()
    first.ack_latency.observe(0.003)
    assert first.registry.get_sample_value("replay_ingest_batches_total", {"result": "stored"}) == 3
    assert (
        second.registry.get_sample_value("replay_ingest_batches_total", {"result": "stored"})
        is None
    )
    assert first.registry.get_sample_value("replay_ingest_connections") == 1
    assert second.registry.get_sample_value("replay_ingest_connections") == 0
    assert (
        first.registry.get_sample_value("replay_ingest_ack_latency_seconds_bucket", {"le": "0.005"})
        == 1
    )


def test_the_exported_names() -> None:
    text = generate_latest(Metrics().registry).decode()
    for name in (
        "replay_ingest_connections",
        "replay_ingest_received_bytes_total",
        "replay_ingest_sent_bytes_total",
        "replay_ingest_ack_latency_seconds_bucket",
        "replay_chunks_written_total",
        "replay_chunk_stored_bytes_total",
        "replay_spool_pending_batches",
        "replay_spool_segments",
        "replay_spool_write_failures_total",
        "replay_quarantined_batches_total",
        "replay_ingest_masked_values_total",
    ):
        assert f"\n{name}" in text, name
