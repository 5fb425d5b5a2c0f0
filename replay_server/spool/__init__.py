"""The spool: this node's write-ahead log of acked batches (log.py: segments,
framing, group-committed fsync, disk faults) and what each entry holds
(records.py: the entry format and the names of a batch's stages).

May import only the contract modules at the root (protocol, errors); ingest,
chunks, recovery and live view import it."""
