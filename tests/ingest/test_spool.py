from __future__ import annotations

import asyncio
from pathlib import Path

from replay_server.ingest.spool import Spool, read_segment


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
