"""Build the BlobStore a storage URL names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import ConfigError
from .base import BlobStore
from .local import LocalBlobStore


def open_blob_store(storage_url: str, *, s3_endpoint_url: str = "") -> BlobStore:
    parsed = urlparse(storage_url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        raise ConfigError("s3:// storage is not available in this version yet")
    raise ConfigError(f"unsupported storage URL {storage_url!r} (use file:// or s3://)")
