"""The instructor's progress page in a real browser (Debian's Chromium through Playwright), against a room
served over real HTTP on loopback, with the room's clock in the test's hands.

Two participants share their progress: Ana passes lesson 2's exercises, Bo fails ``tally_purchase`` twice,
each through the kit's real checkers and outbox. The page, open all along and never reloaded, shows both in
its grid; when the room's clock passes ten minutes (the clock is moved, nobody sleeps), Bo's row appears
among the stuck, with the hint's key Bo keeps getting.
"""

import time

import pytest
from browsers import screenshot, wait_for
from room_players import Served, new_config

from hello_winners.room import kit
from hello_winners.workshop import inroom
from hello_winners.workshop.exercises import checks, solutions
from hello_winners.workshop.exercises.checks.cases import hint_keys

LESSON_2 = ("decode_record", "validate_event", "record_contribution", "tally_purchase", "handle_batch")


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


def tally_crediting_both(dynamodb, table_names, event):
    """The likeliest mistake: both contributors assumed known."""
    item = dynamodb.update_item(
        TableName=table_names["CONTRIBUTIONS_TABLE"], Key={"productId": {"S": event["data"]["id"]}},
        UpdateExpression="ADD purchases :one", ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW")["Attributes"]
    for role in ("merchant", "photographer"):
        solutions.add_to_score(dynamodb, table_names, item[role]["S"], role, item[role + "Name"]["S"], 1)


@pytest.fixture
def room(tmp_path):
    clock = Clock()
    with Served(tmp_path / "room", new_config(tmp_path / "room"), clock=clock) as served:
        served.clock = clock
        yield served


def sharing(room, name):
    membership = kit.join(room.base, room.config.code, name, f"test-ui-{name.lower()}", "embedded")
    membership.share = True
    membership.save()
    return membership


def until_sent(membership, timeout=15):
    deadline = time.monotonic() + timeout
    while kit.waiting(membership.stage):
        assert time.monotonic() < deadline, "the outbox was never sent"
        time.sleep(0.05)


def test_the_instructor_sees_the_grid_live_and_the_stuck_when_the_clock_passes_ten_minutes(room, chromium, capsys):
    page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{room.base}/instructor/progress?token={room.config.instructor_token}")
    assert page.url == f"{room.base}/instructor/progress"  # the token has left the address bar
    wait_for(page, "document.body.dataset.participants === '0'")
    page.evaluate("window.sameDocument = true")

    ana, bo = sharing(room, "Ana"), sharing(room, "Bo")
    try:
        inroom.report_as(ana)
        for name in LESSON_2:
            getattr(checks, name)(getattr(solutions, name))
        until_sent(ana)
        inroom.report_as(bo)
        checks.decode_record(solutions.decode_record)
        checks.tally_purchase(tally_crediting_both)
        checks.tally_purchase(tally_crediting_both)
        until_sent(bo)
    finally:
        inroom.report_as(None)
    said = capsys.readouterr().out
    assert said.count("tally_purchase: not right yet") == 2 and said.count(": passed") == 6, said

    wait_for(page, "document.body.dataset.participants === '2'")
    cell = "document.querySelector(`#grid tr[data-name='{}'] td[data-exercise='{}']`)?.dataset.state"
    wait_for(page, cell.format("Bo", "tally_purchase") + " === 'failing'")
    assert all(page.evaluate(f"() => {cell.format('Ana', name)}") == "passed" for name in LESSON_2)
    assert page.evaluate(f"() => {cell.format('Bo', 'decode_record')}") == "passed"
    assert page.evaluate(f"() => {cell.format('Bo', 'put_event')}") == "not-started"
    passed = page.evaluate("() => document.querySelector(`#grid tfoot td[data-exercise='tally_purchase']`).textContent")
    assert passed == "1"
    assert page.evaluate("() => document.body.dataset.stuck") == "0"
    assert page.evaluate("() => window.sameDocument") is True

    room.clock.now += 10 * 60 + 1  # the room's clock passes ten minutes: no report, no reload
    wait_for(page, "document.body.dataset.stuck === '1'")
    row = page.locator("#stuck tbody tr").first
    assert row.get_attribute("data-name") == "Bo" and row.get_attribute("data-exercise") == "tally_purchase"
    hint = room.room.progress.cells[room.room.ledger.kit_by_name["bo"]]["tally_purchase"].hint
    assert hint in hint_keys() and hint in row.text_content() and "2 times in a row" in row.text_content()
    assert page.evaluate("() => window.sameDocument") is True
    screenshot(page, "room-progress.png")
