"""Building the blob store a storage URL names (storage/factory.py): file://
is a local directory, s3:// a bucket and prefix; anything else is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from replay_server.errors import ConfigError
from replay_server.storage.factory import open_blob_store
from replay_server.storage.local import LocalBlobStore
from replay_server.storage.s3 import S3BlobStore


def test_storage_urls() -> None:
    with pytest.raises(ConfigError):
        open_blob_store("s3:///no-bucket")
    with pytest.raises(ConfigError):
        open_blob_store("ftp://host/x")
    s3 = open_blob_store("s3://bucket/a/b/")
    assert isinstance(s3, S3BlobStore)
    assert (s3.bucket, s3.prefix) == ("bucket", "a/b/")
    asyncio.run(s3.close())


async def test_a_file_url_is_a_local_directory(tmp_path: Path) -> None:
    root = tmp_path / "blobs with space"
    store = open_blob_store("file://" + str(root).replace(" ", "%20"))
    assert isinstance(store, LocalBlobStore) and store.root == root
    await store.put("s/1/x/0", b"data")
    assert (root / "s/1/x/0").read_bytes() == b"data"
    await store.close()
