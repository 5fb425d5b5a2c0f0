"""Privacy enforced by the server: masking what a site's settings say must be
masked whatever the recorder sent, retention (sweeps of expired sessions),
erasure (a session or a visitor, everywhere), and the operator commands over
them.

May import db, storage, accounts, the contract modules at the root; the
ingest path, the API and the CLI import it."""
