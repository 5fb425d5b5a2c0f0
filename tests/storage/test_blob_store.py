"""The BlobStore contract, run against every backend: the local directory and
S3 (moto's standalone server over real HTTP)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from replay_server.errors import InvalidMessage, NotFound
from replay_server.storage import BlobStore, open_blob_store
from replay_server.storage.local import LocalBlobStore
from tests.services import S3Server

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    blobs: BlobStore
    if request.param == "local":
        blobs = open_blob_store((tmp_path / "blobs").as_uri())
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        request.getfixturevalue("aws_env")
        bucket = await asyncio.to_thread(server.new_bucket)
        blobs = open_blob_store(f"s3://{bucket}/tenant-a", s3_endpoint_url=server.endpoint_url)
    yield blobs
    await blobs.close()


async def test_put_get_and_overwrite(store: BlobStore) -> None:
    await store.put("s/1/abc/000000000000-p0-1.rsc", b"first")
    assert await store.get("s/1/abc/000000000000-p0-1.rsc") == b"first"
    await store.put("s/1/abc/000000000000-p0-1.rsc", b"second")
    assert await store.get("s/1/abc/000000000000-p0-1.rsc") == b"second"
    big = os.urandom(3 * 1024 * 1024)
    await store.put("s/1/abc/big.rsc", big)
    assert await store.get("s/1/abc/big.rsc") == big


async def test_missing_key_is_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFound):
        await store.get("s/1/nope/000000.rsc")


async def test_delete_prefix_deletes_one_session_only(store: BlobStore) -> None:
    for i in range(3):
        await store.put(f"s/1/aaa/{i:06d}.rsc", b"a")
    await store.put("s/1/aab/000000.rsc", b"neighbour")
    await store.put("s/2/aaa/000000.rsc", b"other site")
    assert await store.delete_prefix("s/1/aaa/") == 3
    for i in range(3):
        with pytest.raises(NotFound):
            await store.get(f"s/1/aaa/{i:06d}.rsc")
    assert await store.get("s/1/aab/000000.rsc") == b"neighbour"
    assert await store.get("s/2/aaa/000000.rsc") == b"other site"
    assert await store.delete_prefix("s/1/aaa/") == 0


async def test_delete_prefix_of_one_key(store: BlobStore) -> None:
    await store.put("s/1/aaa/000001-p0-ab.rsc", b"x")
    await store.put("s/1/aaa/000002-p0-cd.rsc", b"y")
    assert await store.delete_prefix("s/1/aaa/000001-p0-ab.rsc") == 1
    assert await store.get("s/1/aaa/000002-p0-cd.rsc") == b"y"


async def test_check_passes_on_a_working_store(store: BlobStore) -> None:
    await store.check()


@pytest.mark.parametrize(
    "key",
    ["../outside", "/etc/passwd", "s/../../x", "s/./x", "s//x", "s\\x", "s/x\0", "", "."],
)
async def test_keys_cannot_leave_the_store(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidMessage):
        await store.put(key, b"x")
    with pytest.raises(InvalidMessage):
        await store.get(key)


async def test_prefix_cannot_leave_the_store(store: BlobStore) -> None:
    for prefix in ("../", "s/../../", "/s/"):
        with pytest.raises(InvalidMessage):
            await store.delete_prefix(prefix)


async def test_local_store_stays_under_its_root(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    await store.put("s/1/a/x.rsc", b"x")
    assert (tmp_path / "blobs" / "s" / "1" / "a" / "x.rsc").read_bytes() == b"x"
    assert not (tmp_path / "x.rsc").exists()
