"""Object storage for compressed chunks: a small async protocol, local disk by
default, any S3 endpoint at scale (boto3 off the event loop).

May import only the contract modules at the root; chunks, privacy and the
spool import it."""

from replay_server.storage.base import BlobStore
from replay_server.storage.factory import open_blob_store

__all__ = ["BlobStore", "open_blob_store"]
