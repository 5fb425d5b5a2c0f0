"""Stored chunks: the chunk format (zstd of msgpack events, versioned), cutting
spool entries into chunks (build, in a worker process), writing them exactly
once across nodes (writer, rows), quarantining what cannot be chunked, and
reading a session back (reader: stored chunks plus what the spool still holds).

May import spool, enrich, storage, db and the contract modules at the root;
ingest, the API and live view read through it."""
