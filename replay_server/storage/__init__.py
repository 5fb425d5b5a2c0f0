"""Object storage for compressed chunks: a small async protocol, local disk by default."""

from .base import BlobStore
from .factory import open_blob_store

__all__ = ["BlobStore", "open_blob_store"]
