"""The room's rules without a server: what a participant may type, rate limits, photo assignments, the
folded room after a restart, and what happens to a photo (pure tier)."""

import doctest
import io
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from room_players import bomb, photo_with_gps, zip_after

from hello_winners import events
from hello_winners.room import actions, assignment, limits, photos, text
from hello_winners.room.ledger import Ledger
from hello_winners.room.refusal import Refused

T = "2026-01-01T10:00:00.000Z"


@pytest.mark.parametrize("module", [limits, text])
def test_the_examples_in_the_docstrings_hold(module):
    assert doctest.testmod(module).failed == 0


# --- names and product text ----------------------------------------------------------------------

@pytest.mark.parametrize("name, problem", [
    ("", "empty"), ("   ", "empty"), (None, "missing"), ("x" * 41, "keep it to 40"),
    ("<script>alert(1)</script>", "< or >"), ("Eve\x1b]0;pwned\x07", "control character (U+001B)"),
    ("Bo\u202etxt.exe", "U+202E"), ("Ana\x00", "U+0000"), ("a/b", "split it"),
])
def test_a_bad_display_name_gets_one_sentence_saying_what_to_change(name, problem):
    with pytest.raises(Refused) as refused:
        text.display_name(name)
    assert refused.value.status == 400 and problem in str(refused.value)
    assert str(refused.value).count(".") == 1 and "\n" not in str(refused.value)


def test_names_that_look_the_same_are_the_same_name():
    assert text.display_name(" Zoë\n ") == "Zoë"
    assert text.name_key("ＡＮＡ") == text.name_key("ana") == text.name_key("Ana")
    assert text.display_name("Zoë & \"the\" crew") == "Zoë & \"the\" crew"  # ampersands and quotes are data


def test_a_product_is_checked_field_by_field():
    form = {"name": "Boot", "brand": "Northwind", "description": "A boot.\r\nWarm.", "category": "Shoes", "price": "49.95"}
    assert text.product_fields(form, ["Shoes"]) == {
        "name": "Boot", "brand": "Northwind", "description": "A boot. Warm.", "category": "Shoes", "price": "49.95"}
    for change, problem in [({"category": "Weapons"}, "category"), ({"price": "free"}, "price"),
                            ({"brand": "<b>"}, "brand"), ({"name": ""}, "product name")]:
        with pytest.raises(Refused, match=problem):
            text.product_fields({**form, **change}, ["Shoes"])


@given(st.text(max_size=60))
def test_whatever_is_typed_a_name_is_refused_or_holds_no_control_or_markup(typed):
    try:
        name = text.display_name(typed)
    except Refused as refused:
        assert refused.status == 400
        return
    assert name == name.strip() and 0 < len(name) <= text.NAME_MAX
    assert not any(c in name for c in "<>/")
    assert all(unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn") for c in name)


# --- rate limits ---------------------------------------------------------------------------------

def test_a_limit_refuses_with_retry_after_then_refills():
    now = [0.0]
    limit = limits.Limit("actions", burst=3, rate=0.5, clock=lambda: now[0])
    for _ in range(3):
        limit.take("ana")
    with pytest.raises(Refused) as refused:
        limit.take("ana")
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "2"}
    limit.take("bo")  # another key has its own bucket
    now[0] = 2.0
    limit.take("ana")


def test_a_flood_of_new_keys_keeps_the_limiter_small():
    now = [0.0]
    limit = limits.Limit("joins", burst=1, rate=1, clock=lambda: now[0], max_keys=100)
    for i in range(1000):
        now[0] += 0.001
        limit.take(f"10.0.{i // 256}.{i % 256}")
    assert len(limit._buckets) <= 100


# --- photo assignments ---------------------------------------------------------------------------

def test_the_least_loaded_free_photographer_gets_the_product_never_its_merchant():
    a = assignment.Assignments()
    a.done.update({"ann": 2, "bob": 0, "cat": 0})
    assert a.choose("p1", ["ann", "bob", "cat"], merchant=None) == "bob"  # fewest photos, then first joined
    assert a.choose("p1", ["ann", "bob", "cat"], merchant="bob") == "cat"
    a.assign("p1", "cat", since=0)
    assert a.choose("p2", ["ann", "cat"], merchant=None) == "ann"  # cat holds one already
    assert a.choose("p2", ["cat"], merchant=None) is None


def test_an_overdue_assignment_goes_to_someone_not_yet_tried_then_round_again():
    a = assignment.Assignments()
    a.assign("p1", "ann", since=0)
    assert [o.product for o in a.overdue(now=179, wait_s=180)] == []
    assert [o.photographer for o in a.overdue(now=180, wait_s=180)] == ["ann"]
    a.withdraw("p1")
    assert a.choose("p1", ["ann", "bob"], merchant=None) == "bob"
    a.assign("p1", "bob", since=180)
    a.withdraw("p1")
    assert a.choose("p1", ["ann", "bob"], merchant=None) == "ann"  # everyone had a turn: start over


@given(st.lists(st.tuples(st.sampled_from(["create", "join", "photo", "tick", "leave"]), st.integers(0, 5)),
                max_size=60))
def test_assignments_hold_their_rules_whatever_the_room_does(steps):
    """One open assignment per photographer, never their own product, never a product with a photo."""
    ledger, now = Ledger(), 0.0
    people = [f"p{i}" for i in range(6)]

    def settle():
        for record in actions.withdrawals(ledger, now, 10, T):
            ledger.apply_record(record)
        while (record := actions.offer(ledger, now, T)) is not None:
            ledger.apply_record(record)

    for step, n in steps:
        now += 3
        who = people[n]
        if step == "join" and who not in ledger.participants:
            ledger.apply_record({"kind": "join", "id": who, "name": who, "key": who, "roles": ["merchant", "photographer"],
                                 "token": who, "time": T})
        elif step == "create" and who in ledger.participants:
            ledger.apply_event(events.product_create(who, who, f"x{len(ledger.products)}", brand="b", name="n",
                                                     description="d", category="Shoes", time=T))
        elif step == "photo" and who in ledger.assignments.holding:
            ledger.apply_event(events.product_image(who, who, ledger.assignments.holding[who], "/p.jpg", time=T))
        elif step == "leave" and who in ledger.participants:
            ledger.apply_record({"kind": "remove", "id": who, "time": T})
        settle()
        holders = [o.photographer for o in ledger.assignments.open.values()]
        assert len(holders) == len(set(holders))
        for product, opened in ledger.assignments.open.items():
            assert ledger.products[product].merchant != opened.photographer
            assert ledger.products[product].image is None
            assert not ledger.participants[opened.photographer].removed
            assert ledger.assignments.holding[opened.photographer] == product


# --- the room folded from its two files ----------------------------------------------------------

def test_the_room_after_a_restart_is_the_room_before_it():
    """Journal records are applied where they fell between the log's events, whatever the files' lengths."""
    live = Ledger()
    log, journal = [], []

    def event(e):
        live.apply_event(e)
        log.append(events.encode(e))

    def record(r):
        r["log"] = live.position
        live.apply_record(r)
        journal.append(events.encode(r))

    record({"kind": "join", "id": "m", "name": "M", "key": "m", "roles": ["merchant"], "token": "t1", "time": T})
    record({"kind": "join", "id": "ph", "name": "Ph", "key": "ph", "roles": ["photographer"], "token": "t2", "time": T})
    for n in range(3):
        event(events.product_create("m", "M", f"x{n}", brand="b", name="n", description="d", category="Shoes", time=T))
        if (offer := actions.offer(live, 0, T)) is not None:
            record(offer)
    event(events.product_image("ph", "Ph", "x0", "/a.jpg", time=T))
    record(actions.offer(live, 0, T))  # x1 goes to ph, free again
    record({"kind": "hide", "product": "x2", "hidden": True, "time": T})
    again = Ledger().fold(log, journal)
    assert again.position == live.position and again.counts() == live.counts()
    assert {p: o.photographer for p, o in again.assignments.open.items()} == {"x1": "ph"}
    assert again.products["x2"].hidden and again.products["x0"].photographer == "ph"
    # Journal records whose events never reached the disk (the log is shorter) change nothing.
    cut = Ledger().fold(log[:1], journal)
    assert list(cut.products) == ["x0"] and {p: o.photographer for p, o in cut.assignments.open.items()} == {"x0": "ph"}


# --- joining --------------------------------------------------------------------------------------

def test_joining_needs_the_code_an_open_room_and_a_free_name():
    ledger = Ledger()
    first = actions.join(ledger, "ABCDEF", " abcdef ", "Ana", ["customer"], "p1", "token", T)
    assert first["roles"] == ["customer"] and first["token"] == actions.token_hash("token") != "token"
    ledger.apply_record(first)
    for code, name, roles, status, problem in [
        ("ABCDEG", "Bo", ["customer"], 403, "room code"), ("ABCDEF", "ANA", ["customer"], 409, "taken"),
        ("ABCDEF", "Bo", [], 400, "at least one role"), ("ABCDEF", "Bo", ["admin"], 400, "does not exist"),
        (None, "Bo", ["customer"], 403, "room code"),
    ]:
        with pytest.raises(Refused) as refused:
            actions.join(ledger, "ABCDEF", code, name, roles, "p2", "t2", T)
        assert refused.value.status == status and problem in str(refused.value)
    ledger.apply_record(actions.joining(False, T))
    with pytest.raises(Refused, match="closed joining"):
        actions.join(ledger, "ABCDEF", "ABCDEF", "Bo", ["customer"], "p2", "t2", T)


# --- photos ---------------------------------------------------------------------------------------

def test_a_photo_is_shrunk_turned_upright_and_keeps_nothing_but_pixels():
    original = photo_with_gps((2400, 1800), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does carry a GPS position
    kept = Image.open(io.BytesIO(photos.reencode(original)))
    assert kept.format == "JPEG" and kept.size == (768, 1024)  # 2400x1800 turned by its orientation, then shrunk
    assert not kept.getexif() and not kept.getexif().get_ifd(0x8825)
    assert set(kept.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density", "progression", "progressive"}


def test_a_transparent_png_becomes_a_white_backed_jpeg():
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (255, 0, 0, 0)).save(out, "PNG")
    kept = Image.open(io.BytesIO(photos.reencode(out.getvalue())))
    assert kept.mode == "RGB" and kept.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize("make, status, problem", [
    (lambda: b"just some text, not a photo", 415, "not a photo"),
    (lambda: b"", 400, "No photo"),
    (lambda: photo_with_gps((64, 64)) + b"<html><script>alert(1)</script></html>", 415, "something else too"),
    (lambda: b"<!DOCTYPE html>" + photo_with_gps((64, 64)), 415, "something else too"),
    (lambda: zip_after(photo_with_gps((64, 64))), 415, "something else too"),
    (lambda: b"\xff" * (photos.MAX_BYTES + 1), 413, "up to 8 MB"),
    (lambda: bomb(20_000), 413, "more pixels than the room decodes"),
    (lambda: photo_with_gps((640, 480))[:2000], 415, "damaged or cut short"),
])
def test_what_is_not_a_plain_photo_is_refused_in_one_sentence(make, status, problem):
    with pytest.raises(Refused) as refused:
        photos.reencode(make())
    assert refused.value.status == status and problem in str(refused.value)
