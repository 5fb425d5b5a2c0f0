"""The HTTP edge: middleware (domain errors become HTTP answers here), reverse
proxies, the health and opt-out pages, the recorder script and the HTTP
ingest fallback, and the TCP-level guards of `serve` (connection caps,
header and frame timeouts).

May import the domain packages (ingest, accounts, auth, db, storage, ...) and
the contract modules at the root; nothing below imports it."""
