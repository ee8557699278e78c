"""Progress from the checks, as the room keeps and shows it, and the kits that follow a room (pure tier:
Starlette's TestClient, no socket).

A kit joins with the room code and a name and presents the code and its own token on every request;
it reads the room log and the room's boards, reports its checks, and reads back only its own
progress. Bad reports (no token, another's, an unknown exercise, a huge body, a flood, fields that
would name someone else) get a 4xx with one sentence and nothing is stored. The grid, the stuck list
and the pace follow an injectable clock.
"""

import json
import re
from pathlib import Path

import pytest
from room_players import Player, new_config
from starlette.testclient import TestClient

from hello_winners.room import plan, progress
from hello_winners.room.app import PROGRESS_FILE, Room, create_app
from hello_winners.room.durable import AppendLog

BASE = "http://127.0.0.1:8800"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def room(tmp_path, clock):
    return Room(tmp_path, new_config(tmp_path), clock=clock)


@pytest.fixture
def client(room):
    with TestClient(create_app(room, f"{BASE}/join?code={room.config.code}"), base_url=BASE) as made:
        yield made


def kit_headers(room, token, code=None):
    return {"Authorization": f"Bearer {token}", "X-Room-Code": code or room.config.code}


def join_kit(client, room, name, address="10.0.0.9"):
    answer = client.post("/api/kits", json={"code": room.config.code, "name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def report(exercise="tally_purchase", outcome="failed", hint="score-only-the-roles-the-item-has", at=T0, id=None):
    return {"id": id or f"r{abs(hash((exercise, outcome, hint, at))):016d}"[:20], "exercise": exercise,
            "outcome": outcome, "hint": hint if outcome == "failed" else None, "at": at}


def stored(room):
    return len(AppendLog(room.folder / PROGRESS_FILE))


def one_sentence(answer):
    message = answer.json()["error"]
    assert message.endswith(".") and message.count(". ") == 0 and len(message) < 220, message
    return message


# --- kits ------------------------------------------------------------------------------------------------

def test_a_kit_joins_with_the_code_and_reads_the_log_with_its_own_token(room, client):
    token = join_kit(client, room, "Ana")
    assert token not in (room.folder / "journal.jsonl").read_text()  # only its hash is kept
    page = client.get("/api/log?from=0&wait=0", headers=kit_headers(room, token))
    assert page.status_code == 200 and page.json() == {"from": 0, "next": 0, "end": 0, "events": []}
    assert client.get("/api/boards", headers=kit_headers(room, token)).json()["boards"] == {
        "merchant": [], "photographer": []}
    # the same name plays on the phone and follows on the laptop; two kits of one name do not
    assert client.post("/api/kits", json={"code": room.config.code, "name": "ana"}).status_code == 409
    assert Player(client, room.config.code).join("Ana", ["merchant"]).status_code == 303


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"Authorization": "Bearer not-a-token", "X-Room-Code": "CODE"}, 403),  # a wrong code is refused first
    ({"Authorization": "Bearer not-a-token"}, 401),  # a token without the code
])
def test_the_log_and_the_boards_need_the_code_and_a_kits_token(room, client, headers, status):
    token = join_kit(client, room, "Ana")
    wrong = {k: v.replace("CODE", "ZZZZZZ") for k, v in headers.items()}
    for path in ("/api/log?from=0", "/api/boards"):
        answer = client.get(path, headers=wrong)
        assert answer.status_code in (status, 401), answer.text
        one_sentence(answer)
    assert client.get("/api/log", headers={"Authorization": f"Bearer {token}", "X-Room-Code": "ZZZZZZ"}).status_code == 403


def test_a_kit_cannot_join_with_a_wrong_code_or_extra_fields(room, client):
    assert client.post("/api/kits", json={"code": "ZZZZZZ", "name": "Ana"}).status_code == 403
    assert client.post("/api/kits", json={"code": room.config.code, "name": "Ana", "token": "mine"}).status_code == 400
    assert client.post("/api/kits", content=b"not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post("/api/kits", json={"code": room.config.code, "name": "<b>Ana</b>"}).status_code == 400
    assert room.ledger.kits == {}


def test_the_log_waits_for_the_next_event_and_answers_once_it_lands(room, client):
    token = join_kit(client, room, "Ana")
    merchant = Player(client, room.config.code)
    merchant.join("Mia", ["merchant"])
    merchant.add_product("Boot")
    page = client.get("/api/log?from=0&limit=10&wait=5", headers=kit_headers(room, token)).json()
    assert [item["position"] for item in page["events"]] == [0] and page["next"] == 1 == page["end"]
    assert page["events"][0]["event"]["data"]["name"] == "Boot"
    assert client.get("/api/log?from=0&wait=99", headers=kit_headers(room, token)).status_code == 400


# --- reports ----------------------------------------------------------------------------------------------

def test_reports_are_kept_once_and_a_kit_reads_back_only_its_own(room, client, clock):
    ana, bo = join_kit(client, room, "Ana"), join_kit(client, room, "Bo")
    first = report(outcome="failed", id="ana-first-1")
    assert client.post("/api/progress", json=first, headers=kit_headers(room, ana)).status_code == 201
    again = client.post("/api/progress", json=first, headers=kit_headers(room, ana))  # sent twice: kept once
    assert again.status_code == 200 and again.json() == {"kept": False}
    passed = report("decode_record", "passed", at=T0 + 5, id="bo-passed-1")
    assert client.post("/api/progress", json=passed, headers=kit_headers(room, bo)).status_code == 201
    assert stored(room) == 2
    mine = client.get("/api/progress", headers=kit_headers(room, ana)).json()
    assert mine["name"] == "Ana" and set(mine["progress"]) == {"tally_purchase"}
    assert mine["progress"]["tally_purchase"]["status"] == "failed"
    line = (room.folder / PROGRESS_FILE).read_text()
    assert "Ana" not in line and ana not in line  # the kit's id binds it; no name, no token in the file


def bad_cases(room, ana, bo_token):
    good = report(id="good-report-1")
    return {
        "no token": ({"X-Room-Code": room.config.code}, good, 401),
        "a phone's session or a made-up token": (kit_headers(room, "x" * 32), good, 401),
        "the instructor's token is not a kit's": (kit_headers(room, room.config.instructor_token), good, 401),
        "the right token with another room's code": (kit_headers(room, ana, "ZZZZZZ"), good, 403),
        "naming another participant": (kit_headers(room, ana), {**good, "name": "Bo"}, 400),
        "naming another kit": (kit_headers(room, ana), {**good, "kit": "k000000000000"}, 400),
        "an unknown exercise": (kit_headers(room, ana), {**good, "exercise": "rm_rf"}, 422),
        "an unknown outcome": (kit_headers(room, ana), {**good, "outcome": "excellent"}, 422),
        "a hint that is message text": (kit_headers(room, ana), {**good, "hint": "Your code says: import os"}, 422),
        "code in the report": (kit_headers(room, ana), {**good, "code": "def f(): pass"}, 400),
        "a time from another day": (kit_headers(room, ana), {**good, "at": T0 - 7 * 86400}, 422),
        "not JSON": (kit_headers(room, ana), b"exercise=tally_purchase", 400),
        "a huge body": (kit_headers(room, ana), {**good, "hint": "x" * 200_000}, 413),
    }


@pytest.mark.parametrize("case", ["no token", "a phone's session or a made-up token",
                                  "the instructor's token is not a kit's", "the right token with another room's code",
                                  "naming another participant", "naming another kit", "an unknown exercise",
                                  "an unknown outcome", "a hint that is message text", "code in the report",
                                  "a time from another day", "not JSON", "a huge body"])
def test_a_bad_report_gets_a_4xx_with_one_sentence_and_nothing_is_stored(room, client, case):
    ana, bo = join_kit(client, room, "Ana"), join_kit(client, room, "Bo")
    headers, body, status = bad_cases(room, ana, bo)[case]
    sent = (client.post("/api/progress", content=body, headers={**headers, "Content-Type": "application/json"})
            if isinstance(body, bytes) else client.post("/api/progress", json=body, headers=headers))
    assert sent.status_code == status, sent.text
    one_sentence(sent)
    assert stored(room) == 0 and room.progress.cells == {}


def test_a_flood_of_reports_gets_429_and_stores_no_more(room, client):
    ana = join_kit(client, room, "Ana")
    answers = [client.post("/api/progress", json=report(id=f"flood-{i:05d}", at=T0), headers=kit_headers(room, ana))
               for i in range(40)]
    kept = sum(a.status_code == 201 for a in answers)
    refused = [a for a in answers if a.status_code == 429]
    assert kept == 30 and len(refused) == 10 and refused[0].headers["retry-after"]
    one_sentence(refused[0])
    assert stored(room) == kept


# --- the instructor's view ----------------------------------------------------------------------------------

def test_the_grid_marks_the_stuck_when_the_clock_passes_ten_minutes():
    made = progress.Progress()
    for i, (kit, exercise, outcome, hint, at) in enumerate([
            ("k1", "decode_record", "passed", None, T0), ("k1", "tally_purchase", "failed", "credit-the-buyer", T0 + 60),
            ("k1", "tally_purchase", "failed", "credit-the-buyer", T0 + 300), ("k2", "tally_purchase", "passed", None, T0),
            ("k2", "handle_batch", "not-done", None, T0 + 10)]):
        made.apply({"id": f"r{i}", "kit": kit, "exercise": exercise, "outcome": outcome, "hint": hint, "at": at})
    names = {"k1": "Ana", "k2": "Bo"}
    before = progress.grid(made, names, T0 + 60 + 599)
    assert before["stuck"] == []
    assert [row["name"] for row in before["participants"]] == ["Ana", "Bo"]
    assert before["participants"][0]["cells"] == {"decode_record": "passed", "tally_purchase": "failing"}
    assert before["participants"][1]["cells"] == {"tally_purchase": "passed", "handle_batch": "started"}
    counts = {row["name"]: (row["passed"], row["failing"]) for row in before["exercises"]}
    assert counts["tally_purchase"] == (1, 1) and counts["decode_record"] == (1, 0) and counts["put_event"] == (0, 0)
    after = progress.grid(made, names, T0 + 60 + 600)
    assert after["stuck"] == [{"name": "Ana", "exercise": "tally_purchase", "minutes": 10, "hint": "credit-the-buyer",
                               "repeats": 2, "failures": 2}]
    made.apply({"id": "r9", "kit": "k1", "exercise": "tally_purchase", "outcome": "passed", "hint": None, "at": T0 + 700})
    assert progress.grid(made, names, T0 + 3600)["stuck"] == []


def test_the_pace_compares_the_median_participant_with_the_plan():
    made = progress.Progress()
    for i, kit in enumerate(["k1", "k2", "k3"]):
        done = plan.EXERCISES[: 2 + 2 * i]  # 2, 4 and 6 exercises passed: the median has passed 4
        for j, name in enumerate(done):
            made.apply({"id": f"{kit}-{j}", "kit": kit, "exercise": name, "outcome": "passed", "hint": None, "at": T0})
    pace = progress.pace(made, T0 + 45 * 60)
    assert pace["median_exercise"] == plan.EXERCISES[3] == "validate_event"
    assert pace["planned_lesson"] == {"lesson": 2, "title": "write the consumer"}
    assert pace["ahead"] == plan.planned_by("validate_event") - 45 == 63 - 45
    assert [row["finished"] for row in pace["lessons"][:3]] == [None, 3, 0]


def test_the_plan_is_the_one_docs_instructors_md_gives():
    table = (Path(__file__).resolve().parents[1] / "docs" / "instructors.md").read_text().split("## The room plan")[1]
    rows = re.findall(r"^\| (\d) [^|]+\|[^|]+\| (\d) \| (\d+) min", table, flags=re.M)
    assert [(int(n), int(count), int(minutes)) for n, count, minutes in rows] == [
        (lesson.number, len(lesson.exercises), lesson.minutes) for lesson in plan.PLAN]


def test_the_progress_page_and_its_export_need_the_instructor(room, client, clock):
    ana = join_kit(client, room, "=HYPERLINK(1)")
    client.post("/api/progress", json=report(id="formula-1"), headers=kit_headers(room, ana))
    for path in ("/instructor/progress", "/instructor/progress/feed", "/api/progress.csv"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=kit_headers(room, ana)).status_code == 401
    bearer = {"Authorization": f"Bearer {room.config.instructor_token}"}
    page = client.get("/instructor/progress", headers=bearer)
    assert page.status_code == 200 and "/static/progress.js" in page.text
    exported = client.get("/api/progress.csv", headers=bearer).text.splitlines()
    assert exported[0].split(",")[:3] == ["participant", "put_event", "read_back"]
    assert exported[1].startswith("'=HYPERLINK(1),not started,not started")  # a name is data in a spreadsheet too
    assert "failing" in exported[1] and exported[-1].startswith("passed,0,0")


def test_the_progress_survives_a_restart_of_the_room(room, client, clock, tmp_path):
    ana = join_kit(client, room, "Ana")
    client.post("/api/progress", json=report(id="before-restart"), headers=kit_headers(room, ana))
    again = Room(tmp_path, room.config, clock=clock)
    assert again.progress.cells == room.progress.cells and again.ledger.kits == room.ledger.kits
    view = progress.grid(again.progress, again.names(), clock())
    assert json.dumps(view) == json.dumps(progress.grid(room.progress, room.names(), clock()))
