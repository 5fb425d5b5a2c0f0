"""Blobs in any S3-compatible object store, through boto3.

boto3 is blocking, so every call runs in this store's own bounded thread pool
(never on the event loop, never in the loop's shared default executor). The
client is thread-safe and keeps one HTTP connection per worker. botocore retries
throttling and transient errors with exponential backoff ("standard" mode).

Keys live under the URL's prefix: `s3://bucket/prefix` stores `s/12/<sid>/...`
at `prefix/s/12/<sid>/...`, so a session is one prefix and deleting it is a
list + batched delete.
"""

from __future__ import annotations

import asyncio
import functools
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from replay_server.errors import NotFound, StorageError
from replay_server.storage.base import check_key

T = TypeVar("T")

# Chunks are a few MB at most (REPLAY_CHUNK_MAX_BYTES): one PUT each. Only a blob
# above this goes multipart, where parallel parts and per-part retries pay off.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_PART_SIZE = 16 * 1024 * 1024
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str = "",
        max_workers: int = 16,
        multipart_threshold: int = MULTIPART_THRESHOLD,
    ) -> None:
        if not bucket:
            raise StorageError("s3:// storage URL without a bucket")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url or None
        self.multipart_threshold = multipart_threshold
        self._max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="s3")
        self._client_lock = threading.Lock()
        self._s3: Any = None

    # -- the BlobStore protocol -------------------------------------------

    async def put(self, key: str, data: bytes) -> None:
        full = self._full_key(key)
        if len(data) < self.multipart_threshold:
            call: Callable[[], Any] = functools.partial(self._put_sync, full, data)
        else:
            call = functools.partial(self._put_multipart, full, data)
        await self._run(f"write {key}", call)

    async def get(self, key: str) -> bytes:
        full = self._full_key(key)
        return await self._run(f"read {key}", functools.partial(self._get_sync, full))

    async def delete_prefix(self, prefix: str) -> int:
        check_key(prefix, prefix=True)
        full = self.prefix + prefix
        return await self._run(
            f"delete {prefix}*", functools.partial(self._delete_prefix_sync, full)
        )

    async def check(self) -> None:
        await self._run(
            f"reach bucket {self.bucket}",
            lambda: self._client().head_bucket(Bucket=self.bucket),
        )

    async def close(self) -> None:
        await asyncio.to_thread(self._close_sync)

    # -- in the pool ----------------------------------------------------------

    async def _run(self, what: str, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, call)
        except NotFound:
            raise
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "?")
            raise StorageError(f"S3 could not {what}: {code}") from e
        except BotoCoreError as e:
            raise StorageError(f"S3 could not {what}: {e}") from e

    def _client(self) -> Any:
        """Created lazily in a worker thread (loading botocore's models blocks)."""
        with self._client_lock:
            if self._s3 is None:
                config = Config(
                    retries={"max_attempts": 5, "mode": "standard"},
                    max_pool_connections=self._max_workers,
                    connect_timeout=5,
                    read_timeout=60,
                    # MinIO, Ceph and most self-hosted stores want path-style URLs.
                    s3={"addressing_style": "path"} if self.endpoint_url else None,
                )
                session = boto3.session.Session()
                self._s3 = session.client("s3", endpoint_url=self.endpoint_url, config=config)
            return self._s3

    def _close_sync(self) -> None:
        self._pool.shutdown(wait=True)
        with self._client_lock:
            if self._s3 is not None:
                self._s3.close()  # its HTTP connection pool
                self._s3 = None

    def _get_sync(self, full_key: str) -> bytes:
        try:
            response = self._client().get_object(Bucket=self.bucket, Key=full_key)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFound(f"blob {full_key} not found") from e
            raise
        body: bytes = response["Body"].read()
        return body

    def _put_sync(self, full_key: str, data: bytes) -> None:
        self._client().put_object(Bucket=self.bucket, Key=full_key, Body=data)

    def _put_multipart(self, full_key: str, data: bytes) -> None:
        config = TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=MULTIPART_PART_SIZE,
            use_threads=False,  # already in a pool thread; keep the pool's bound
        )
        self._client().upload_fileobj(io.BytesIO(data), self.bucket, full_key, Config=config)

    def _delete_prefix_sync(self, full_prefix: str) -> int:
        client = self._client()
        paginator = client.get_paginator("list_objects_v2")
        deleted = 0
        batch: list[dict[str, str]] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
            for item in page.get("Contents", []):
                batch.append({"Key": item["Key"]})
                if len(batch) == DELETE_BATCH:
                    deleted += self._delete_batch(client, batch)
                    batch = []
        if batch:
            deleted += self._delete_batch(client, batch)
        return deleted

    def _delete_batch(self, client: Any, keys: list[dict[str, str]]) -> int:
        response = client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise StorageError(
                f"S3 could not delete {len(errors)} blob(s), e.g. {first.get('Key')}: "
                f"{first.get('Code')}"
            )
        return len(keys)

    def _full_key(self, key: str) -> str:
        return self.prefix + check_key(key)
