"""The room server's process: ``python -m hello_winners.room.server --folder DIR --listen HOST:PORT``.

``hello-winners room start`` runs it detached; it serves :mod:`hello_winners.room.app` until stopped.

Why this stack:

- **Starlette** (ASGI): the small, typed, well-kept toolkit the field builds on (FastAPI is made of
  it), with what a room needs and nothing more: routes as a list, middleware, Jinja2 templates that
  escape every name, multipart forms with size limits, streaming answers for server-sent events, and
  a lifespan that runs the pump and the projector's feed beside the requests. Async matters here:
  300 phones hold connections open while each write waits for its fsync, and a projector holds an
  event stream open for hours; threads per connection would not do.
- **granian** serves it: the kit already ships it for the embedded AWS, its HTTP/1 is parsed in Rust
  outside the GIL, and it times out a client that trickles its headers (a stalled phone, or someone
  holding connections open on purpose). Its embeddable server runs the application on this process's
  own event loop: one process holds the room (the log writer, the ledger, the pump), so a ``kill -9``
  ends all of it at once and nothing outlives it holding the port. (granian calls the embeddable
  server experimental; the room's tests and benchmark run through it, including the kill.)
- **segno** draws the QR code (pure Python, no image library needed for SVG or a terminal) and
  **Pillow** re-encodes photos (see :mod:`hello_winners.room.photos`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server.embed import Server

from hello_winners import targets
from hello_winners.room.app import Room, create_app
from hello_winners.room.config import RoomConfig, base_url, join_hosts, parse_listen

HEADER_READ_TIMEOUT_S = 10  # a client that has not sent its request's headers by then is dropped
BACKLOG = 1024  # a room's phones arriving at once (300 join within a minute)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The room server (started by `hello-winners room start`).")
    parser.add_argument("--folder", required=True, help="the room's folder in the state folder")
    parser.add_argument("--listen", default="127.0.0.1:8800", help="HOST:PORT to listen on")
    parser.add_argument("--photo-wait", type=float, default=180.0, help="seconds before a photo assignment moves on")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between two reads of the winner API")
    parser.add_argument("--no-stream", action="store_true", help="put nothing on the stream (pages only)")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    config = RoomConfig.load(folder)
    host, port = parse_listen(args.listen)
    target = targets.get(config.target)
    kinesis = None if args.no_stream else target.client("kinesis", config.stage)
    room = Room(folder, config, kinesis=kinesis, photo_wait_s=args.photo_wait, poll_s=args.poll,
                api_url=lambda: target.api_url(config.api_id, config.region) if config.api_id else None)
    join_url = f"{base_url(join_hosts(host)[0], port)}/join?code={config.code}"
    print(f"room server for stage {config.stage} on {config.target}: {len(room.ledger.participants)} "
          f"participants, {len(room.log)} events in the room log; listening on {base_url(host, port)}",
          file=sys.stderr, flush=True)
    asyncio.run(serve(create_app(room, join_url), room, host, port))


async def serve(app: object, room: Room, host: str, port: int) -> None:
    """Serve ``app`` on this process's event loop until SIGTERM or SIGINT, which end the projector's open
    feeds first: the server then stops at once, not after a feed's grace period."""
    server = Server(app, address=host, port=port, interface=Interfaces.ASGI, http=HTTPModes.http1,
                    backlog=BACKLOG, log_level=LogLevels.warning,
                    http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_S * 1000))
    loop = asyncio.get_running_loop()

    async def stopping() -> None:
        await room.feed.close()
        await room.progress_feed.close()
        server.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: loop.create_task(stopping()))
    await server.serve()


if __name__ == "__main__":
    main()
