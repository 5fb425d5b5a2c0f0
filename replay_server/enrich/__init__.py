"""What the server adds to a recorded visit: browser, OS and device from the
User-Agent, country from the address (before it is truncated), visit
metadata, and the behaviour metrics computed over each chunk cut (clicks,
rage and dead clicks, errors, active time).

Pure or read-only lookups; may import the contract modules at the root (and
snapshot's event model). The ingest path and the chunk builder import it."""
