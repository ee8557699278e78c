"""Helpers for the room's tests: a room in a folder, and participants who use its pages as a browser would
(forms with their CSRF tokens, cookies kept), through Starlette's TestClient or over real HTTP."""

import contextlib
import io
import re
import zipfile

from PIL import Image

from hello_winners.room.config import RoomConfig

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    return CSRF.search(page).group(1)


def new_config(folder, stage="test-room"):
    config = RoomConfig.new("embedded", stage, f"hw-{stage}-retail-stream")
    config.save(folder)
    return config


def photo_with_gps(size=(1600, 1200), orientation=1) -> bytes:
    """A phone's JPEG: an orientation, the phone's maker, where it was taken, and a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "JPEG", exif=exif.tobytes(), comment=b"secret note")
    return out.getvalue()


def zip_after(data: bytes) -> bytes:
    """``data`` with a zip archive appended: still opens as the photo, and as an archive too."""
    out = io.BytesIO(data)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


def bomb(side=12_000) -> bytes:
    """A PNG whose header claims side x side pixels: a few hundred kilobytes that decode to gigabytes."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    return out.getvalue()


@contextlib.contextmanager
def room_on(stage):
    """A fresh room on a stage of its own of the suite's embedded AWS (deployed by ``room start``), served
    on a free loopback port: (record, config, base URL). Stopped and torn down afterwards."""
    from hello_winners import deploy, targets
    from hello_winners.deploy import teardown
    from hello_winners.room import control

    record, config = control.start(stage=stage, listen="127.0.0.1:0", fresh=True, photo_wait_s=120,
                                   report=lambda line: None)
    try:
        yield record, config, f"http://127.0.0.1:{record.port}"
    finally:
        control.stop()
        settings = targets.settings(stage=stage)
        teardown.teardown(deploy.clients(stage=settings.stage), settings.prefix, settings.stage, report=lambda line: None)


class Player:
    """One participant's browser: ``client`` is an httpx-style client on the room (cookies kept)."""

    def __init__(self, client, code):
        self.client = client
        self.code = code

    def join(self, name, roles, code=None):
        page = self.client.get("/join")
        return self.client.post("/join", data={"csrf": csrf_of(page.text), "code": code or self.code, "name": name,
                                               "roles": roles}, follow_redirects=False)

    def csrf(self):
        """The session's CSRF token, as every page's forms carry it."""
        return csrf_of(self.client.get("/me").text)

    def add_product(self, name="Boot", **fields):
        form = {"csrf": self.csrf(), "name": name, "brand": "Northwind", "description": "A warm boot.",
                "category": "Shoes", **fields}
        return self.client.post("/products", data=form, follow_redirects=False)

    def assigned(self):
        return self.client.get("/api/assignment").json()["product"]

    def upload(self, product, data, name="photo.jpg", kind="image/jpeg"):
        return self.client.post(f"/photos/{product}", data={"csrf": self.csrf()},
                                files={"photo": (name, data, kind)}, follow_redirects=False)

    def buy(self, product):
        return self.client.post("/purchases", data={"csrf": self.csrf(), "product": product}, follow_redirects=False)


class Served:
    """A room served over real HTTP on loopback by granian, in a thread of the test's process, so that a test
    can stop it and start it again on the same port (a restart: a new Room read back from its folder)."""

    def __init__(self, folder, config, clock=None, port=0):
        import socket

        self.folder, self.config, self.clock = folder, config, clock
        if not port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.room = self.thread = None

    def start(self):
        import asyncio
        import threading
        import time
        import urllib.request

        from granian.constants import HTTPModes, Interfaces
        from granian.log import LogLevels
        from granian.server.embed import Server

        from hello_winners.room.app import Room, create_app

        self.room = Room(self.folder, self.config, **({"clock": self.clock} if self.clock else {}), poll_s=0.2)
        app = create_app(self.room, f"{self.base}/join?code={self.config.code}")
        self.loop = asyncio.new_event_loop()
        self.server = Server(app, address="127.0.0.1", port=self.port, interface=Interfaces.ASGI,
                             http=HTTPModes.http1, log_level=LogLevels.error)
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.server.serve(),), daemon=True)
        self.thread.start()
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"the room never answered on {self.base}")

    def stop(self):
        import asyncio

        async def stopping():
            await self.room.feed.close()
            await self.room.progress_feed.close()
            self.server.stop()

        asyncio.run_coroutine_threadsafe(stopping(), self.loop)
        self.thread.join(30)
        assert not self.thread.is_alive(), "the room server did not stop"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def http_player(base, code):
    """A participant over real HTTP (cookies kept), for a room served by Served."""
    import httpx2

    return Player(httpx2.Client(base_url=base, timeout=30), code)
