"""The room's pages and rules over HTTP, in-process (Starlette's TestClient, no socket: pure tier):
every role's path through the pages, and every bad input an attacker or a clumsy phone sends answered
with a 4xx and one sentence, with nothing written to the room log."""

import io
import json

import pytest
from PIL import Image
from room_players import Player, bomb, csrf_of, new_config, photo_with_gps, zip_after
from starlette.testclient import TestClient

from hello_winners.room import actions, security
from hello_winners.room.app import Room, create_app
from hello_winners.room.durable import AppendLog

BASE = "http://127.0.0.1:8800"


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def room(tmp_path):
    config = new_config(tmp_path)
    clock = Clock()
    made = Room(tmp_path, config, clock=clock, photo_wait_s=120)
    made.test_clock = clock
    return made


@pytest.fixture
def app(room):
    return create_app(room, f"{BASE}/join?code={room.config.code}")


@pytest.fixture
def people(app, room):
    """A factory of participants, each with a browser of their own; all closed at the end."""
    clients = []

    def player(address="127.0.0.1"):
        client = TestClient(app, base_url=BASE, client=(address, 50000 + len(clients)))
        client.__enter__()
        clients.append(client)
        return Player(client, room.config.code)

    yield player
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def trio(people):
    merchant, photographer, customer = people("10.0.0.1"), people("10.0.0.2"), people("10.0.0.3")
    assert merchant.join("Ana", ["merchant"]).status_code == 303
    assert photographer.join("Bo", ["photographer"]).status_code == 303
    assert customer.join("Cy", ["customer"]).status_code == 303
    return merchant, photographer, customer


def lengths(room):
    return len(AppendLog(room.folder / "events.jsonl")), len(AppendLog(room.folder / "journal.jsonl"))


def test_a_room_plays_through_its_pages_and_survives_a_restart(room, app, trio):
    merchant, photographer, customer = trio
    cookie = merchant.client.cookies  # set by the join answer
    assert cookie.get(security.SESSION_COOKIE)
    added = merchant.add_product("Trail Boot", price="89.50")
    assert added.status_code == 303 and added.headers["x-room-position"] == "0"
    product = added.headers["location"].split("added=")[1]
    assert photographer.assigned() == product
    assert "Trail Boot" in photographer.client.get("/photographer").text
    sent = photographer.upload(product, photo_with_gps())
    assert sent.status_code == 303, sent.text
    page = customer.client.get("/shop?category=Shoes").text
    assert "Trail Boot" in page and f"/products/{product}" in page
    image = room.ledger.products[product].image
    kept = Image.open(io.BytesIO(customer.client.get(image).content))
    assert kept.format == "JPEG" and not kept.getexif() and max(kept.size) <= 1024
    assert customer.client.get(f"/products/{product}").status_code == 200
    bought = customer.buy(product)
    assert bought.status_code == 303 and bought.headers["location"] == f"/products/{product}?bought=1"
    log = customer.client.get("/api/log?from=0").json()
    assert [e["event"]["data"]["schema"].split("/")[-2] for e in log["events"]] == [
        "create", "image", "view", "view", "purchase"]
    assert log["next"] == log["end"] == 5 and [e["position"] for e in log["events"]] == list(range(5))
    assert customer.client.get("/api/log?from=4&limit=1").json()["events"][0]["event"]["data"]["id"] == product

    again = Room(room.folder, room.config)
    assert again.ledger.counts() == room.ledger.counts() == {
        "participants": 3, "merchants": 1, "photographers": 1, "customers": 1, "products": 1, "photos": 1, "sales": 1}
    assert again.ledger.products[product].photographer_name == "Bo"


def test_the_session_cookie_is_httponly_and_strict(people):
    joined = people().join("Ana", ["customer"])
    cookie = joined.headers["set-cookie"]
    assert cookie.startswith(security.SESSION_COOKIE + "=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_every_answer_carries_the_strict_content_security_policy(people, room):
    player = people()
    for answer in [player.client.get("/join"), player.client.get("/static/room.css"),
                   player.client.get("/shop"), player.client.post("/purchases", data={})]:
        assert answer.headers["content-security-policy"] == security.CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"


# --- bad input: each a 4xx with one sentence, and nothing written -----------------------------------

def _post_raw(player, path, data, **headers):
    return player.client.post(path, data=data, headers=headers, follow_redirects=False)


BAD = {
    "a wrong room code": lambda m, p, c, product, forged: c.join("Eve", ["customer"], code="WRONG1"),
    "a join without its CSRF token": lambda m, p, c, product, forged: _post_raw(
        forged, "/join", {"code": forged.code, "name": "Eve", "roles": "customer"}),
    "a write without a session": lambda m, p, c, product, forged: _post_raw(
        forged, "/purchases", {"product": product, "csrf": "x"}),
    "a forged session token": lambda m, p, c, product, forged: _forged(forged, product),
    "a write without its CSRF token": lambda m, p, c, product, forged: _post_raw(c, "/purchases", {"product": product}),
    "a CSRF token of another session": lambda m, p, c, product, forged: _post_raw(
        c, "/purchases", {"product": product, "csrf": m.csrf()}),
    "a write from another site": lambda m, p, c, product, forged: _post_raw(
        c, "/purchases", {"product": product, "csrf": c.csrf()}, Origin="http://evil.example"),
    "an oversized upload": lambda m, p, c, product, forged: p.upload(product, b"\xff\xd8" + b"0" * (9 * 1024 * 1024)),
    "an oversized form": lambda m, p, c, product, forged: m.add_product(description="x" * 20_000),
    "a non-image": lambda m, p, c, product, forged: p.upload(product, b"%PDF-1.7 not a photo", "a.pdf", "application/pdf"),
    "a photo that is also a web page": lambda m, p, c, product, forged: p.upload(
        product, photo_with_gps((64, 64)) + b"<html><script>alert(document.cookie)</script>"),
    "a photo that is also a zip": lambda m, p, c, product, forged: p.upload(product, zip_after(photo_with_gps((64, 64)))),
    "a decompression bomb": lambda m, p, c, product, forged: p.upload(product, bomb(), "bomb.png", "image/png"),
    "HTML in a name": lambda m, p, c, product, forged: forged.join("<img src=x onerror=alert(1)>", ["customer"]),
    "control characters in a name": lambda m, p, c, product, forged: forged.join("Eve\x1b[2J\x07", ["customer"]),
    "HTML in a product": lambda m, p, c, product, forged: m.add_product("<script>alert(1)</script>"),
    "control characters in a product": lambda m, p, c, product, forged: m.add_product(description="line\x00\x1b[31m"),
    "a taken name": lambda m, p, c, product, forged: forged.join("ANA", ["customer"]),
    "a photo of a product assigned to someone else": lambda m, p, c, product, forged: c.upload(product, photo_with_gps()),
    "an instructor action without the token": lambda m, p, c, product, forged: _post_raw(
        c, "/instructor/hide", {"product": product, "csrf": c.csrf()}),
    "a purchase of a product that does not exist": lambda m, p, c, product, forged: c.buy("room-00000000"),
}


def _forged(player, product):
    player.client.cookies.set(security.SESSION_COOKIE, "forged-token")
    return _post_raw(player, "/purchases", {"product": product, "csrf": "x"})


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's, as the bomb is opened
@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_a_4xx_with_one_sentence_and_writes_nothing(case, room, trio, people):
    merchant, photographer, customer = trio
    product = merchant.add_product().headers["location"].split("added=")[1]
    forged = people("10.0.0.9")
    before = lengths(room)
    answer = BAD[case](merchant, photographer, customer, product, forged)
    assert 400 <= answer.status_code < 500, (case, answer.status_code, answer.text[:300])
    message = answer.json()["error"]
    assert message.endswith(".") and "\n" not in message and len(message) < 200, message
    assert lengths(room) == before, f"{case} wrote to the room's files"


def test_too_many_actions_too_fast_get_429_with_retry_after_and_write_nothing(room, trio):
    merchant, _, customer = trio
    product = merchant.add_product().headers["location"].split("added=")[1]
    answers = [customer.buy(product) for _ in range(15)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and all(a.status_code == 303 for a in answers[: len(answers) - len(refused)])
    assert int(refused[0].headers["retry-after"]) >= 1 and "Too many actions" in refused[0].json()["error"]
    assert room.ledger.products[product].purchases == len(answers) - len(refused) == lengths(room)[0] - 1


def test_join_attempts_are_limited_per_address(people):
    guesser = people("10.0.0.66")
    codes = [guesser.join(f"Eve{n}", ["customer"], code=f"GUESS{n}").status_code for n in range(12)]
    assert codes[:10] == [403] * 10 and codes[10:] == [429, 429]
    assert people("10.0.0.67").join("Fay", ["customer"]).status_code == 303  # another phone is not held back


@pytest.mark.parametrize("path", [
    "/room.json", "/events.jsonl", "/journal.jsonl", "/pumped.json", "/static/../room.json", "/static/%2e%2e/room.json",
    "/photos/..%2Froom.json", "/photos/../room.json", "/static/..%2f..%2fcredentials.json", "/.hello-winners/credentials.json",
])
def test_the_state_folder_is_never_served(path, room, trio):
    answer = trio[0].client.get(path)
    assert answer.status_code == 404
    assert room.config.secret not in answer.text and room.config.instructor_token not in answer.text


def test_names_are_text_on_every_page_and_in_the_feed(room, trio, people):
    _, _, customer = trio
    odd = people("10.0.0.8")
    assert odd.join('Zoë & "the" crew', ["merchant"]).status_code == 303
    product = odd.add_product('Tote "Deluxe" & Co', description="It's &lt;b&gt; fine").headers["location"].split("=")[1]
    page = customer.client.get(f"/products/{product}").text
    assert "Tote &#34;Deluxe&#34; &amp; Co" in page and "It&#39;s &amp;lt;b&amp;gt; fine" in page
    assert "Zoë &amp; &#34;the&#34; crew" in page


def test_the_instructor_closes_joining_removes_a_player_and_hides_a_product(room, app, trio, people):
    merchant, _, customer = trio
    product = merchant.add_product().headers["location"].split("added=")[1]
    instructor = people("127.0.0.1")
    assert instructor.client.get("/instructor").status_code == 401
    entered = instructor.client.get(f"/instructor?token={room.config.instructor_token}", follow_redirects=False)
    assert entered.status_code == 303 and "HttpOnly" in entered.headers["set-cookie"]
    token = csrf_of(instructor.client.get("/instructor").text)

    def act(action, **form):
        return instructor.client.post(f"/instructor/{action}", data={"csrf": token, **form}, follow_redirects=False)

    assert act("joining", open="0").status_code == 303
    assert "closed joining" in people("10.0.0.20").join("Late", ["customer"]).json()["error"]
    assert act("hide", product=product, hidden="1").status_code == 303
    assert customer.buy(product).status_code == 404 and product not in customer.client.get("/shop").text
    ana = next(p.id for p in room.ledger.participants.values() if p.name == "Ana")
    assert act("remove", participant=ana).status_code == 303
    assert merchant.client.get("/merchant").status_code == 401
    assert Room(room.folder, room.config).ledger.participants[ana].removed


def test_an_assignment_not_done_in_time_moves_to_the_next_photographer(room, trio, people):
    merchant, photographer, _ = trio
    product = merchant.add_product().headers["location"].split("added=")[1]
    second = people("10.0.0.4")
    assert second.join("Di", ["photographer"]).status_code == 303
    assert photographer.assigned() == product and second.assigned() is None
    room.test_clock.now += 121
    assert people("10.0.0.5").join("Ed", ["customer"]).status_code == 303  # any write brings assignments up to date
    assert photographer.assigned() is None and second.assigned() == product
    assert photographer.upload(product, photo_with_gps()).status_code == 409
    assert second.upload(product, photo_with_gps()).status_code == 303


def test_the_projector_needs_the_instructor_and_shows_the_code_and_the_qr(room, people):
    viewer = people()
    assert viewer.client.get("/projector").status_code == 401
    assert viewer.client.get("/projector/feed").status_code == 401
    page = viewer.client.get("/projector", headers={"Authorization": f"Bearer {room.config.instructor_token}"}).text
    assert room.config.code in page and "<svg" in page and "<script src=\"/static/projector.js\"" in page
    status = viewer.client.get("/api/status", headers={"Authorization": f"Bearer {room.config.instructor_token}"})
    assert status.json()["counts"]["participants"] == 0 and json.dumps(status.json()).find(room.config.secret) < 0
    assert actions.token_hash(room.config.instructor_token) not in (room.folder / "journal.jsonl").read_text()


def test_a_room_whose_disk_fails_answers_503_and_promises_nothing(room, trio, monkeypatch):
    merchant, _, customer = trio
    product = merchant.add_product().headers["location"].split("added=")[1]

    def full(lines):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(room.log, "append", full)
    for _ in range(2):  # the failed write, then every later one, refused before anything is folded
        answer = customer.buy(product)
        assert answer.status_code == 503 and "cannot save anything" in answer.json()["error"]
    assert Room(room.folder, room.config).ledger.products[product].purchases == 0
