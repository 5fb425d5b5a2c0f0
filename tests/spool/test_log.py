from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay_server.errors import Unavailable
from replay_server.spool.log import Spool, SpoolRecord, read_segment
from tests.diskfull import fill, small_tmpfs


async def test_append_read_release_and_group_commit(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=1 << 20)
    await spool.open()
    payloads = [f"batch {i}".encode() * 10 for i in range(200)]
    records = await asyncio.gather(*(spool.append(p) for p in payloads))
    # 200 concurrent appends share far fewer fsyncs than one each.
    assert spool.fsync_count < 50
    assert await spool.read_many(list(records)) == payloads
    files = list(tmp_path.glob("*.spool"))
    assert len(files) == 1
    spool.release(list(records))
    await spool.close()
    assert [p for p in read_segment(files[0])] == payloads  # current segment is kept


async def test_rotation_drops_fully_released_segments(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=300)
    await spool.open()
    first = [await spool.append(b"x" * 100) for _ in range(3)]
    later = [await spool.append(b"y" * 100) for _ in range(3)]
    assert len({r.segment for r in first + later}) >= 2
    spool.release(first)
    # Deleted by the writer thread (which owns the files), before its next write.
    await spool.append(b"z")
    remaining = {int(p.stem) for p in tmp_path.glob("*.spool")}
    assert first[0].segment not in remaining
    assert await spool.read_many(later) == [b"y" * 100] * 3
    await spool.close()


async def test_torn_tail_is_ignored_and_new_run_uses_new_segment(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=1 << 20)
    await spool.open()
    for i in range(3):
        await spool.append(f"record {i}".encode())
    await spool.close()
    (segment,) = tmp_path.glob("*.spool")
    with segment.open("ab") as fh:
        fh.write(b"RS\xff\x00\x00\x00garbage")  # a crash mid-write
    assert list(read_segment(segment)) == [b"record 0", b"record 1", b"record 2"]
    again = Spool(tmp_path, segment_bytes=1 << 20)
    assert again.leftover_segments() == [segment]
    await again.open()
    record = await again.append(b"fresh")
    assert record.segment > int(segment.stem)
    await again.close()


# -- disk faults, on a real full filesystem (tests/diskfull.py) -------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted after the test whatever happens."""
    with small_tmpfs(tmp_path / "tiny", "1m") as mount:
        yield mount


def _payload(i: int, size: int) -> bytes:
    return (f"record {i} ".encode() * (size // 8 + 1))[:size]


async def _append_all(spool: Spool, payloads: list[bytes]) -> list[SpoolRecord | BaseException]:
    return await asyncio.gather(*(spool.append(p) for p in payloads), return_exceptions=True)


def _on_disk(directory: Path) -> list[bytes]:
    segments = sorted(directory.glob("*.spool"), key=lambda p: int(p.stem))
    return [payload for segment in segments for payload in read_segment(segment)]


async def test_full_disk_refuses_appends_then_recovers_without_corruption(
    tiny_disk: Path,
) -> None:
    directory = tiny_disk / "spool"
    spool = Spool(directory, segment_bytes=256 * 1024)
    await spool.open()
    acked: dict[SpoolRecord, bytes] = {}

    async def round_of(first: int, count: int) -> list[SpoolRecord | BaseException]:
        # Sizes that do not fit the slack of a page: the kernel writes part of
        # a group, then says ENOSPC.
        payloads = [_payload(first + i, 700 + 900 * (i % 7)) for i in range(count)]
        results = await _append_all(spool, payloads)
        for payload, result in zip(payloads, results, strict=True):
            if isinstance(result, SpoolRecord):
                acked[result] = payload
        return results

    before = await round_of(0, 20)
    assert all(isinstance(r, SpoolRecord) for r in before)
    filler = tiny_disk / "filler"
    fill(filler)
    refused: list[BaseException] = []
    for n in range(5):
        results = await round_of(1000 * (n + 1), 12)
        refused += [r for r in results if isinstance(r, BaseException)]
    assert refused, "a full disk must refuse appends"
    assert all(isinstance(e, Unavailable) for e in refused), refused
    assert {e.code for e in refused if isinstance(e, Unavailable)} == {"storage_unavailable"}

    filler.unlink()
    after = await round_of(10_000, 20)
    assert all(isinstance(r, SpoolRecord) for r in after), after
    # Every acked record reads back from the offset it was acked with ...
    records = list(acked)
    assert await spool.read_many(records) == [acked[r] for r in records]
    await spool.close()
    # ... and the segments hold exactly the acked records, no torn one between.
    in_order = sorted(records, key=lambda r: (r.segment, r.offset))
    assert _on_disk(directory) == [acked[r] for r in in_order]


async def test_appends_fail_fast_while_full_and_ack_again_at_once_when_space_returns(
    tiny_disk: Path,
) -> None:
    spool = Spool(tiny_disk / "spool", segment_bytes=256 * 1024)
    await spool.open()
    filler = tiny_disk / "filler"
    fill(filler)
    for i in range(3):
        with pytest.raises(Unavailable):
            await asyncio.wait_for(spool.append(_payload(i, 8192)), 5)
    filler.unlink()
    record = await asyncio.wait_for(spool.append(_payload(99, 8192)), 5)
    assert await spool.read_many([record]) == [_payload(99, 8192)]
    await spool.close()


async def test_releasing_segments_while_writing_never_stops_the_flusher(tmp_path: Path) -> None:
    # Segments of one or two records rotate at every flush, and records are
    # released (as cuts do) at arbitrary moments on the event loop, so segments
    # are dropped while the writer thread writes, syncs and closes segment files.
    spool = Spool(tmp_path, segment_bytes=600)
    await spool.open()
    held: list[SpoolRecord] = []
    writing = True
    # Switch threads as often as possible: a race needs a switch in a window
    # of a few bytecodes.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    async def writer(w: int) -> None:
        for i in range(100):
            payload = _payload(w * 1000 + i, 200 + 10 * w)
            record = await spool.append(payload)
            assert await spool.read_many([record]) == [payload]
            held.append(record)

    async def releaser(seed: int) -> None:
        rng = random.Random(seed)
        while writing or held:
            if held:
                spool.release([held.pop(rng.randrange(len(held)))])
            await asyncio.sleep(0)

    releasers = [asyncio.create_task(releaser(n)) for n in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(writer(w) for w in range(12))), 60)
    finally:
        writing = False
        sys.setswitchinterval(interval)
        await asyncio.gather(*releasers)
    last = await asyncio.wait_for(spool.append(b"still flushing"), 5)
    assert await spool.read_many([last]) == [b"still flushing"]
    await spool.close()
    # Only the last segment is left (it may still hold released records).
    assert len(list(tmp_path.glob("*.spool"))) == 1
    assert _on_disk(tmp_path)[-1] == b"still flushing"
