"""The S3 blob store (storage/s3.py) against moto's standalone server over real
HTTP: keys under the URL's prefix, deletion paging past 1,000 keys, multipart
uploads, and failures as StorageError."""

from __future__ import annotations

import asyncio
import os

import pytest

from replay_server.errors import StorageError
from replay_server.storage import open_blob_store
from replay_server.storage.s3 import S3BlobStore
from tests.services import S3Server


@pytest.mark.s3
async def test_s3_keys_live_under_the_url_prefix(s3_server: S3Server, aws_env: object) -> None:
    bucket = await asyncio.to_thread(s3_server.new_bucket)
    store = open_blob_store(f"s3://{bucket}/replay/prod", s3_endpoint_url=s3_server.endpoint_url)
    try:
        await store.put("s/7/sid/000000000000-p0-aa.rsc", b"x")
        assert await asyncio.to_thread(s3_server.keys, bucket) == [
            "replay/prod/s/7/sid/000000000000-p0-aa.rsc"
        ]
    finally:
        await store.close()


@pytest.mark.s3
async def test_s3_delete_prefix_pages_through_more_than_1000_keys(
    s3_server: S3Server, aws_env: object
) -> None:
    bucket = await asyncio.to_thread(s3_server.new_bucket)
    client = s3_server.client()

    def fill() -> None:
        for i in range(1205):
            client.put_object(Bucket=bucket, Key=f"p/s/1/big/{i:06d}.rsc", Body=b"")

    await asyncio.to_thread(fill)
    store = open_blob_store(f"s3://{bucket}/p", s3_endpoint_url=s3_server.endpoint_url)
    try:
        assert await store.delete_prefix("s/1/big/") == 1205
        assert await asyncio.to_thread(s3_server.keys, bucket) == []
    finally:
        await store.close()


@pytest.mark.s3
async def test_s3_multipart_above_the_threshold(s3_server: S3Server, aws_env: object) -> None:
    bucket = await asyncio.to_thread(s3_server.new_bucket)
    store = S3BlobStore(
        bucket, "", endpoint_url=s3_server.endpoint_url, multipart_threshold=5 * 1024 * 1024
    )
    data = os.urandom(11 * 1024 * 1024)
    try:
        await store.put("s/1/huge.rsc", data)
        assert await store.get("s/1/huge.rsc") == data
        head = await asyncio.to_thread(
            s3_server.client().head_object, Bucket=bucket, Key="s/1/huge.rsc"
        )
        assert "-" in head["ETag"]  # a multipart upload's ETag is "<md5>-<parts>"
    finally:
        await store.close()


@pytest.mark.s3
async def test_s3_check_fails_for_a_missing_bucket(s3_server: S3Server, aws_env: object) -> None:
    store = open_blob_store("s3://no-such-bucket-here/x", s3_endpoint_url=s3_server.endpoint_url)
    try:
        with pytest.raises(StorageError):
            await store.check()
        with pytest.raises(StorageError):
            await store.put("s/1/x.rsc", b"x")
    finally:
        await store.close()


async def test_s3_check_fails_when_the_endpoint_is_down(aws_env: object) -> None:
    from tests.procs import free_port

    store = S3BlobStore("b", "", endpoint_url=f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(StorageError):
            await store.check()
    finally:
        await store.close()
