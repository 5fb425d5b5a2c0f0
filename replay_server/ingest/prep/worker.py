"""A frame worker process: `python -m replay_server.ingest.prep.worker CONFIG`.

Reads requests (prep/wire.py) on stdin, prepares frames (prep/preparer.py), writes
replies on stdout. It reads whatever has arrived and answers it in one write,
so a busy server pays one pipe write and one wake-up for many frames. It
exits when stdin closes: at the server's shutdown, or when the server died,
even by SIGKILL. Signals meant for the server (Ctrl-C in a terminal, a
service manager stopping the whole group) are left to the server, which
closes the pipe once its connections are done.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import traceback
from dataclasses import dataclass

from replay_server.errors import ReplayError
from replay_server.ingest.prep.http_body import split_http_body
from replay_server.ingest.prep.preparer import FramePreparer
from replay_server.ingest.prep.wire import (
    Forget,
    MessageReader,
    Split,
    failure_message,
    read_request,
    reply_message,
)
from replay_server.protocol import Limits
from replay_server.snapshot import EventLimits

READ_SIZE = 1 << 20
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """The limits a worker checks frames against (from Settings)."""

    max_frame_bytes: int
    max_batch_bytes: int
    max_events_per_batch: int
    max_tree_depth: int
    max_string_length: int
    max_skew_ms: int
    max_items: int

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> WorkerConfig:
        return cls(**json.loads(text))

    def preparer(self) -> FramePreparer:
        return FramePreparer(
            Limits(
                self.max_frame_bytes,
                self.max_batch_bytes,
                self.max_events_per_batch,
                self.max_items,
            ),
            EventLimits(
                max_tree_depth=self.max_tree_depth, max_string_length=self.max_string_length
            ),
            self.max_skew_ms,
        )


def answer(preparer: FramePreparer, body: bytes) -> bytes:
    request = read_request(body)
    if isinstance(request, Forget):
        preparer.forget(request.sid)
        return b""
    request_id = request.request_id
    try:
        if isinstance(request, Split):
            limits = preparer.limits
            frames = split_http_body(request.body, request.content_type, limits)
            return reply_message(request_id, frames)
        return reply_message(request_id, preparer.prepare(request.frame, request.context))
    except ReplayError as e:
        return reply_message(request_id, e)
    except Exception:
        # A bug, not the recorder's fault: that connection fails, the worker goes on.
        text = traceback.format_exc()
        log.error("frame worker failed on a frame:\n%s", text)
        return failure_message(request_id, text.strip().splitlines()[-1])


def serve(preparer: FramePreparer, read_fd: int, write_fd: int) -> None:
    reader = MessageReader()
    while True:
        data = os.read(read_fd, READ_SIZE)
        if not data:
            return
        replies = b"".join(answer(preparer, body) for body in reader.feed(data))
        view = memoryview(replies)
        while view:
            view = view[os.write(write_fd, view) :]


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    config = WorkerConfig.from_json(sys.argv[1])
    # Replies own stdout: anything else that prints goes to stderr instead.
    replies_fd = os.dup(1)
    os.dup2(2, 1)
    with contextlib.suppress(BrokenPipeError):  # the server is gone
        serve(config.preparer(), 0, replies_fd)


if __name__ == "__main__":
    main()
