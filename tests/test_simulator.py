"""The simulator plays the workshop game by its rules, deterministically; checked on the log it writes."""

import gzip
import itertools
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from hello_winners import events as E
from hello_winners.errors import ConfigError
from hello_winners.game.eventlog import read_log
from hello_winners.game.simulator import main, simulate

GAME = {"seed": 3, "participants": 10, "products_per_merchant": 3, "purchases_per_customer": 3,
            "views_per_customer": 12, "category_views_per_customer": 4}


def who(event):
    return E.parse_origin(event["origin"])[0]


def role(event):
    return event["origin"].split("/")[1]


@pytest.fixture(scope="module")
def game():
    return list(simulate(**GAME))


def test_same_seed_same_events_byte_for_byte():
    first = b"".join(map(E.encode, simulate(**GAME)))
    assert first == b"".join(map(E.encode, simulate(**GAME)))
    assert first != b"".join(map(E.encode, simulate(**{**GAME, "seed": 4})))


def test_every_event_is_valid_and_time_never_goes_back(game):
    times = [E.parse_time(E.validate(event)["timeOrigin"]) for event in game]
    assert times == sorted(times)
    assert times[0] >= datetime(2017, 6, 13, 16, tzinfo=timezone.utc)
    assert times[-1] <= datetime(2017, 6, 13, 18, tzinfo=timezone.utc)


def test_each_kind_is_produced_by_its_role(game):
    roles = {"create": E.ROLE_MERCHANT, "image": E.ROLE_PHOTOGRAPHER, "purchase": E.ROLE_CUSTOMER,
             "product-view": E.ROLE_CUSTOMER, "category-view": E.ROLE_CUSTOMER}
    assert all(role(event) == roles[E.kind(event)] for event in game)
    assert all(event["origin"].startswith("hello-retail/") for event in game)
    assert all(who(event).startswith("amzn1.account.AH") and len(who(event)) == 42 for event in game)


def test_half_the_room_creates_while_the_other_half_photographs_then_they_swap(game):
    creates = [event for event in game if E.kind(event) == "create"]
    assert len(creates) == 10 * 3 and len({event["data"]["id"] for event in creates}) == 30
    assert Counter(who(event) for event in creates) == Counter({uid: 3 for uid in {who(e) for e in creates}})
    first_half = {who(event) for event in creates[:15]}
    second_half = {who(event) for event in creates[15:]}
    assert len(first_half) == len(second_half) == 5 and not first_half & second_half
    merchant = {event["data"]["id"]: who(event) for event in creates}
    images = [event for event in game if E.kind(event) == "image"]
    first_photographer = {}
    for event in images:
        first_photographer.setdefault(event["data"]["id"], who(event))
    assert {first_photographer[event["data"]["id"]] for event in creates[:15]} == second_half
    assert {first_photographer[event["data"]["id"]] for event in creates[15:]} == first_half
    assert all(who(event) != merchant[event["data"]["id"]] for event in images)  # never their own


def test_everyone_shops_and_buys_only_what_exists(game):
    room = {who(event) for event in game if E.kind(event) == "create"}
    buyers = Counter(who(event) for event in game if E.kind(event) == "purchase")
    assert buyers == Counter({uid: 3 for uid in room})
    viewers = Counter(who(event) for event in game if E.kind(event) == "product-view")
    assert viewers == Counter({uid: 12 for uid in room})
    created, categories = set(), set()
    for event in game:
        if E.kind(event) == "create":
            created.add(event["data"]["id"])
            categories.add(event["data"]["category"])
        elif E.kind(event) in ("purchase", "product-view"):
            assert event["data"]["id"] in created
        elif E.kind(event) == "category-view":
            assert event["data"]["category"] in categories


def test_some_products_are_bought_before_they_are_photographed(game):
    photographed, early = set(), set()
    for event in game:
        if E.kind(event) == "image":
            photographed.add(event["data"]["id"])
        elif E.kind(event) == "purchase" and event["data"]["id"] not in photographed:
            early.add(event["data"]["id"])
    assert early
    assert photographed == {event["data"]["id"] for event in game if E.kind(event) == "create"}


def test_retakes_are_conflicts_by_someone_else():
    game = list(simulate(**{**GAME, "retakes": 0.5}))
    shots = defaultdict(list)
    for event in game:
        if E.kind(event) == "image":
            shots[event["data"]["id"]].append(who(event))
    twice = [people for people in shots.values() if len(people) > 1]
    assert twice and all(len(set(people)) == len(people) for people in twice)


def test_popularity_is_skewed_by_the_skew_parameter():
    def top_share(skew):
        bought = Counter(event["data"]["id"] for event in simulate(**{**GAME, "skew": skew, "customers": 400})
                         if E.kind(event) == "purchase")
        return bought.most_common(1)[0][1] / sum(bought.values())
    assert top_share(1.5) > 2 * top_share(0.0)


def test_customers_beyond_the_room_and_an_exact_event_count():
    game = list(simulate(**{**GAME, "customers": 25}))
    assert len({who(event) for event in game if role(event) == E.ROLE_CUSTOMER}) == 25
    assert len(list(simulate(**{**GAME, "events": 5000}))) == 5000


def test_a_busy_day_streams_without_building_it_first():
    day = simulate(seed=1, events=10_000_000, duration=timedelta(hours=24))
    head = list(itertools.islice(day, 2000))
    assert len(head) == 2000 and E.kind(head[-1]) in E.KINDS.values()


@pytest.mark.parametrize("bad", [{"participants": 1}, {"products_per_merchant": 0}, {"skew": -1},
                                 {"duration": timedelta(0)}, {"customers": 5, "events": 10},
                                 {"late_photos": 2}, {"views_per_customer": -1}])
def test_unplayable_parameters_raise_config_error(bad):
    with pytest.raises(ConfigError):
        simulate(**bad)


def test_the_command_line_writes_the_same_events_compressed(tmp_path, capsys):
    out = tmp_path / "day.jsonl.gz"
    assert main(["--seed", "3", "--participants", "10", "--views", "12", "--category-views", "4",
                 "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    with gzip.open(out) as f:
        assert f.read(2) == b"{\""
    assert list(read_log(out)) == list(simulate(**GAME))


def test_the_command_line_starts_the_game_at_a_utc_time_written_as_the_stream_writes_it(tmp_path):
    """The stream's own form ("Z") is accepted on every supported Python (3.10's fromisoformat refuses it)."""
    out = tmp_path / "day.jsonl"
    assert main(["--participants", "4", "--start", "2020-02-29T12:00:00.000Z", "--hours", "1", "--out", str(out)]) == 0
    assert next(iter(read_log(out)))["timeOrigin"].startswith("2020-02-29T12:")


def test_a_start_that_is_not_a_time_is_one_line_under_the_usage(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--start", "yesterday", "--out", str(tmp_path / "day.jsonl")])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "argument --start: 'yesterday' is not an ISO-8601 time; write it as 2017-06-13T16:00:00Z.")
    assert not (tmp_path / "day.jsonl").exists()
