"""Build the BlobStore a storage URL names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from replay_server.errors import ConfigError
from replay_server.storage.base import BlobStore
from replay_server.storage.local import LocalBlobStore
from replay_server.storage.s3 import S3BlobStore


def open_blob_store(
    storage_url: str, *, s3_endpoint_url: str = "", s3_max_connections: int = 16
) -> BlobStore:
    """`file:///abs/dir` or `s3://bucket/prefix` (credentials: boto3's own chain,
    e.g. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION)."""
    parsed = urlparse(storage_url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigError(f"storage URL {storage_url!r} names no bucket (s3://bucket/prefix)")
        return S3BlobStore(
            parsed.netloc,
            unquote(parsed.path),
            endpoint_url=s3_endpoint_url,
            max_workers=max(1, s3_max_connections),
        )
    raise ConfigError(f"unsupported storage URL {storage_url!r} (use file:// or s3://)")
