"""Many HTTP requests at once, each on its own connection, and what came back for each.

A flood is how a room of browsers (or a careless script) meets a server: every connection is opened
before any answer is read. What counts is whether each request got an HTTP answer at all, and which;
``None`` stands for a request that got no status line (refused, reset, or silent until the deadline).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import urllib.parse


OPEN_S = 5.0  # how long the opened connections wait for the others before they send anyway


def flood(url: str, count: int, path: str = "/", deadline_s: float = 60.0) -> collections.Counter:
    """Status code -> how many of ``count`` concurrent GETs of ``path`` got it (None: no HTTP answer)."""
    parts = urllib.parse.urlsplit(url)
    return asyncio.run(_flood(parts.hostname, parts.port, path, count, deadline_s))


async def _flood(host, port, path, count, deadline_s):
    opened = asyncio.Event()
    waiting = [count]

    async def one():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            waiting[0] -= 1
            if not waiting[0]:
                opened.set()
            return None
        try:
            waiting[0] -= 1
            if not waiting[0]:
                opened.set()
            with contextlib.suppress(asyncio.TimeoutError):  # every connection open (or refused) before any request
                await asyncio.wait_for(opened.wait(), OPEN_S)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            line = await reader.readline()
            fields = line.split()
            if len(fields) < 2 or not fields[0].startswith(b"HTTP/1.") or not fields[1].isdigit():
                return None
            await reader.read()  # the whole answer, until the server closes as asked
            return int(fields[1])
        except OSError:
            return None
        finally:
            writer.close()

    async def bounded():
        try:
            return await asyncio.wait_for(one(), deadline_s)
        except asyncio.TimeoutError:
            return None

    return collections.Counter(await asyncio.gather(*(bounded() for _ in range(count))))
