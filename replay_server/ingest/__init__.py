"""The ingest path of one node: a recorder connection's protocol state machine
(connection), what a node lets in (admission, rate limits), sessions and
acks (ingestor, state), the database rows of hellos (catalog, session_rows),
site look-ups (sites), start-up recovery of the spool, and frame preparation
(prep/).

May import prep, spool, chunks, enrich, privacy, live, accounts, db, storage
and the contract modules at the root; the edge (ws_recorder, web, api)
imports it."""
