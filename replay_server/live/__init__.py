"""Live view: events of sessions still recording, pushed to dashboard viewers
as soon as they are acked (locally, or across nodes through Redis).

May import spool (entries are decoded only where a session is watched) and
the contract modules at the root; ingest and the API import it."""

from replay_server.live.broker import LiveBroker, LiveMessage, LocalBroker

__all__ = ["LiveBroker", "LiveMessage", "LocalBroker"]
