"""Object storage for compressed chunks: a small async protocol, local disk by default."""

from replay_server.storage.base import BlobStore
from replay_server.storage.factory import open_blob_store

__all__ = ["BlobStore", "open_blob_store"]
