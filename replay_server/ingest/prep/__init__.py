"""Preparing recorder frames off the event loop: decode, bound, validate,
prune and mask a batch (preparer.py), in worker processes (worker.py,
driven by workers.py over the pipe format of wire.py); HTTP fallback bodies
are split into frames there too (http_body.py).

May import privacy (masking), the contract modules at the root (protocol,
bounds, snapshot, errors); ingest imports it."""
