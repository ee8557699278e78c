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
        teardown.teardown(deploy.clients(), settings.prefix, settings.stage, report=lambda line: None)


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
