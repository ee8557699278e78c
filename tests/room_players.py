"""Helpers for the room's tests: a room in a folder, and participants who use its pages as a browser would
(forms with their CSRF tokens, cookies kept), through Starlette's TestClient or over real HTTP."""

import io
import re

from PIL import Image

from hello_winners.room.config import RoomConfig

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    return CSRF.search(page).group(1)


def new_config(folder, stage="test-room"):
    config = RoomConfig.new("embedded", stage, f"hw-{stage}-retail-stream")
    config.save(folder)
    return config


def photo_with_gps(size=(1600, 1200)) -> bytes:
    """A phone's JPEG: an orientation, the phone's maker, and where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 1
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


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
