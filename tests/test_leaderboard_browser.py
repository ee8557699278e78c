"""The leaderboard page in headless Chromium, served by the local endpoint from a real moto server,
and end to end: purchases put on the stream, applied by the deployed consumer, seen by the open page.

Chromium is driven by Playwright (tests/browsers.py), so the test sees what the room sees: rendered
rows, updates without a reload, the stale-data message. Screenshots go to artifacts/ (git-ignored) for
a human look at 1920x1080.
"""

import uuid
from decimal import Decimal

import pytest
from browsers import screenshot, wait_for

from hello_winners import events, targets
from hello_winners.embedded import runtime
from hello_winners.embedded.local_api import LocalApi
from hello_winners.game import stream
from hello_winners.view import api, tables

WIDTH, HEIGHT = 1920, 1080

pytestmark = pytest.mark.embedded


# What a board shows, row by row, read from the DOM.
BOARD = """[...document.querySelectorAll('#{role} .row')].map(row => ({{
  userId: row.dataset.userId,
  name: row.querySelector('.name').textContent,
  score: Number(row.querySelector('.score').textContent),
  rank: Number(row.querySelector('.rank').textContent),
  leader: row.classList.contains('leader'),
}}))"""


@pytest.fixture
def dynamodb(embedded_server):
    return targets.client("dynamodb", "embedded")


@pytest.fixture
def env(dynamodb):
    """Tables of a stage of the test's own on the embedded server (in the default participant's namespace, whose
    keys the page's API signs with), deleted afterwards."""
    created = tables.create(dynamodb, f"hw-test-page{uuid.uuid4().hex[:8]}-")
    yield created
    for name in created.values():
        dynamodb.delete_table(TableName=name)


@pytest.fixture
def local(as_participant, env, monkeypatch):
    """The winner API behind the local endpoint, reading the test's tables over HTTP."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api, "_client", None)
    with LocalApi(lambda event: api.handler(event, None)) as running:
        yield running


@pytest.fixture
def browser(chromium):
    """A fresh page at 1920x1080, as a projector shows it."""
    context = chromium.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    yield page
    context.close()


def settle(browser):
    """Let the page's animations finish, so that a screenshot shows what the room sees between updates."""
    browser.wait_for_timeout(1500)


def put_scores(dynamodb, env, rows):
    """Store Scores items from (userId, role, score, name) rows, as the consumer would."""
    table = targets.get("embedded").session().resource("dynamodb", endpoint_url=dynamodb.meta.endpoint_url)
    with table.Table(env[tables.SCORES]).batch_writer() as batch:
        for user_id, role, score, name in rows:
            batch.put_item(Item={"userId": user_id, "role": role, "score": score, "name": name})


def test_the_page_shows_the_winners_and_follows_the_scores_without_a_reload(dynamodb, env, local, browser):
    put_scores(dynamodb, env, [
        ("ana", "merchant", 5, "Ana"), ("bo", "merchant", 3, "Bo"),
        ("cy", "photographer", 4, "Cy"), ("dee", "photographer", 4, "Dee"), ("eve", "photographer", 1, "Eve"),
    ])
    browser.goto(local.url + "/?refresh=1")
    wait_for(browser, "document.body.dataset.state === 'live'")
    assert browser.evaluate(BOARD.format(role="merchant")) == [
        {"userId": "ana", "name": "Ana", "score": 5, "rank": 1, "leader": True},
        {"userId": "bo", "name": "Bo", "score": 3, "rank": 2, "leader": False},
    ]
    assert [(r["name"], r["rank"], r["leader"]) for r in browser.evaluate(BOARD.format(role="photographer"))] == [
        ("Cy", 1, True), ("Dee", 1, True), ("Eve", 3, False)]
    assert browser.evaluate("document.getElementById('status').textContent").startswith("Live · updated ")

    browser.evaluate("window.sameDocument = true")
    put_scores(dynamodb, env, [("bo", "merchant", 8, "Bo")])
    wait_for(browser, "document.querySelector('#merchant .row.leader .name').textContent === 'Bo'")
    assert browser.evaluate("window.sameDocument") is True
    assert [(r["name"], r["score"]) for r in browser.evaluate(BOARD.format(role="merchant"))] == [
        ("Bo", 8), ("Ana", 5)]
    assert browser.evaluate("document.querySelector('#merchant .skipped').textContent") == ""
    put_scores(dynamodb, env, [("odd", "merchant", Decimal("6.5"), "Odd")])  # a row the API cannot read
    wait_for(browser, "document.querySelector('#merchant .skipped').textContent"
                     " === '1 unreadable row of the scores table left out'")
    assert [r["name"] for r in browser.evaluate(BOARD.format(role="merchant"))] == ["Bo", "Ana"]
    settle(browser)
    screenshot(browser, "leaderboard.png")

    local.stop()
    wait_for(browser, "document.body.dataset.state === 'stale'")
    assert browser.evaluate("document.getElementById('status').textContent").startswith(
        "Not live · scores of ")
    assert "the API cannot be reached: no connection" in browser.evaluate("document.getElementById('status').title")
    assert [r["name"] for r in browser.evaluate(BOARD.format(role="merchant"))] == ["Bo", "Ana"]
    screenshot(browser, "leaderboard-stale.png")


ODD_NAMES = [
    '<img src=x onerror="window.pwned = 1">',
    "Bartholomew " * 30,
    "محمد الأمين",
    "Zoë & \"the\" Ünïcødé crew",
]


def test_a_thousand_names_stay_readable_on_one_screen(dynamodb, env, local, browser):
    rows = [(f"m{i:04d}", "merchant", 1 + i % 40, f"Merchant {i}") for i in range(1000)]
    rows += [(f"p{i:04d}", "photographer", 1 + i % 37, f"Photographer {i}") for i in range(1000)]
    rows += [(f"odd{i}", "merchant", 100 - i, name) for i, name in enumerate(ODD_NAMES)]
    put_scores(dynamodb, env, rows)
    browser.goto(local.url + "/")
    wait_for(browser, "document.body.dataset.state === 'live'")
    settle(browser)
    screenshot(browser, "leaderboard-1000.png")
    merchants = browser.evaluate(BOARD.format(role="merchant"))
    assert len(merchants) == 15 and len(browser.evaluate(BOARD.format(role="photographer"))) == 15
    assert [r["name"] for r in merchants[:4]] == ODD_NAMES
    assert browser.evaluate("document.querySelector('#merchant .more').textContent") == (
        "… and 85+ more merchants with sales")
    assert browser.evaluate("document.querySelectorAll('img').length === 0 && window.pwned === undefined")
    # Nothing spills: no scrolling at 1920x1080, the long name is cut inside its board.
    assert browser.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert browser.evaluate("document.documentElement.scrollHeight <= innerHeight")
    assert browser.evaluate("""(() => {
      const name = document.querySelectorAll('#merchant .name')[1];
      const board = document.getElementById('merchant').getBoundingClientRect();
      return name.scrollWidth > name.clientWidth && name.getBoundingClientRect().right <= board.right;
    })()""")


def test_before_any_sale_both_boards_say_so(local, browser):
    browser.goto(local.url + "/")
    wait_for(browser, "document.body.dataset.state === 'live'")
    assert browser.evaluate("[...document.querySelectorAll('.board')].map(b => b.innerText.split('\\n').pop())") == [
        "Nobody has sold anything yet.", "Nobody has sold anything yet."]


@pytest.fixture
def deployed(embedded_server):
    """A whole stage on the embedded AWS: stream, consumer, tables, API, served by the local runtime."""
    from hello_winners import deploy
    from hello_winners.deploy import teardown

    settings = targets.settings(stage="browser")
    outputs = deploy.deploy(stage=settings.stage, report=lambda line: None)
    yield outputs
    teardown.teardown(deploy.clients(stage=settings.stage), settings.prefix, settings.stage, report=lambda line: None)
    runtime.sync()


def added_by(merchant, product):
    return events.product_create(merchant, merchant.title(), product, brand="B", name="N", description="D",
                                 category="Shoes")


def test_purchases_put_on_the_stream_reach_the_open_page_through_the_consumer(deployed, browser):
    from hello_winners import deploy

    kinesis = deploy.clients(stage="browser")["kinesis"]
    seed = [added_by("ana", "p1"), added_by("bo", "p2"), events.product_image("cy", "Cy", "p1", "https://img/1"),
            events.product_image("dee", "Dee", "p2", "https://img/2"),
            *[events.product_purchase("c1", "Customer", "p1") for _ in range(3)],
            events.product_purchase("c2", "Customer", "p2")]
    stream.put_events(kinesis, deployed.stream, seed)
    runtime.drain(timeout_s=120)
    browser.goto(deployed.api_url + "/?refresh=1")
    wait_for(browser, "document.body.dataset.state === 'live'")
    assert [(r["name"], r["score"], r["leader"]) for r in browser.evaluate(BOARD.format(role="merchant"))] == [
        ("Ana", 3, True), ("Bo", 1, False)]
    assert [(r["name"], r["score"]) for r in browser.evaluate(BOARD.format(role="photographer"))] == [
        ("Cy", 3), ("Dee", 1)]

    browser.evaluate("window.sameDocument = true")
    stream.put_events(kinesis, deployed.stream, [events.product_purchase("c3", "Customer", "p2") for _ in range(4)])
    # Each board follows its own reads: wait for both, the photographers' may come a refresh after the merchants'.
    wait_for(browser, "document.querySelector('#merchant .row.leader .name').textContent === 'Bo'", timeout=60)
    wait_for(browser, "document.querySelector('#photographer .row.leader .name').textContent === 'Dee'", timeout=60)
    assert browser.evaluate("window.sameDocument") is True
    assert [(r["name"], r["score"]) for r in browser.evaluate(BOARD.format(role="photographer"))] == [
        ("Dee", 5), ("Cy", 3)]
    settle(browser)
    screenshot(browser, "leaderboard-live.png")
