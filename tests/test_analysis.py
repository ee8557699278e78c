"""Every analysis against a brute-force pure-Python computation on small logs, plus reading the tables."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import boto3
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from properties import examples

from hello_winners import analysis, events as ev
from hello_winners.analysis import cooccurrence
from hello_winners.game import eventlog
from hello_winners.errors import ConfigError

START = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
SCHEMAS = {"create": ev.PRODUCT_CREATE, "image": ev.PRODUCT_IMAGE, "purchase": ev.PRODUCT_PURCHASE,
           "product-view": ev.PRODUCT_VIEW, "category-view": ev.CATEGORY_VIEW}
ORIGINS = ["hello-retail/r/a/Ann", "hello-retail/r/a/Annie", "hello-retail/r/b/Bo", "hello-retail/r/c",
           "x/d", "nobody", "hello-retail/r//ghost"]  # "nobody" and the empty id identify nobody


def _event(kind, who, product, minute):
    data = {"schema": SCHEMAS[kind]}
    if kind == "create":
        data.update(id=f"p{product}", brand="b", name="n", description="d", category="c")
    elif kind == "image":
        data.update(id=f"p{product}", image="https://example.com/i.png")
    elif kind == "category-view":
        data.update(category="c")
    else:
        data.update(id=f"p{product}")
    return ev.envelope(ORIGINS[who], data, START + timedelta(minutes=minute))


event_lists = st.lists(
    st.builds(_event, st.sampled_from(list(SCHEMAS)), st.integers(0, len(ORIGINS) - 1), st.integers(0, 5),
              st.integers(0, 6)),
    max_size=60)
fast = settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Brute force: one loop over the events, dicts and sets, no pandas. ------------------------------------

def _rows(events):
    """(position, time, kind, productId, userId, name) of every event, decoded by hand."""
    kinds = {schema: kind for kind, schema in SCHEMAS.items()}
    for position, event in enumerate(events):
        who = ev.parse_origin(event["origin"]) or (None, None)
        time = ev.parse_time(event["timeOrigin"])
        yield position, time, kinds[event["data"]["schema"]], event["data"].get("id"), who[0], who[1]


def brute_owners(events):
    owners = {"merchant": {}, "photographer": {}}
    names = {"merchant": {}, "photographer": {}}
    for _, _, kind, product, user, name in _rows(events):
        role = {"create": "merchant", "image": "photographer"}.get(kind)
        if role and user is not None and product not in owners[role]:
            owners[role][product] = user
            names[role].setdefault(user, name)
    return owners, names


def brute_sales(events):
    owners, names = brute_owners(events)
    sales = {}
    for _, time, kind, product, _, _ in _rows(events):
        if kind != "purchase":
            continue
        for role in owners:
            if product in owners[role]:
                key = (role, owners[role][product], product)
                count, first, last = sales.get(key, (0, time, time))
                sales[key] = (count + 1, min(first, time), max(last, time))
    totals = Counter()
    for (role, user, _), (count, _, _) in sales.items():
        totals[role, user] += count
    rows = [(role, user, names[role][user], product, count, first, last)
            for (role, user, product), (count, first, last) in sales.items()]
    return sorted(rows, key=lambda r: (r[0], -totals[r[0], r[1]], r[1], -r[4], r[3])), totals, names


def brute_hot(events, min_views=3):
    views = Counter((product, user) for _, _, kind, product, user, _ in _rows(events)
                    if kind == "product-view" and user is not None)
    keen = Counter(product for (product, _), n in views.items() if n >= min_views)
    return sorted(keen.items(), key=lambda item: (-item[1], item[0]))


def brute_trending(events, as_of, half_life_s, view_weight, purchase_weight):
    scores, counts = defaultdict(float), defaultdict(lambda: [0, 0])
    for _, time, kind, product, _, _ in _rows(events):
        if kind in ("product-view", "purchase") and time <= as_of:
            weight = view_weight if kind == "product-view" else purchase_weight
            scores[product] += weight * 2 ** (-(as_of - time).total_seconds() / half_life_s)
            counts[product][kind == "purchase"] += 1
    ranked = sorted(scores, key=lambda p: (-scores[p], p))
    return [(p, scores[p], counts[p][0], counts[p][1]) for p in ranked]


def _top_k(users_by_pair, k):
    by_product = defaultdict(list)
    for (a, b), users in users_by_pair.items():
        if a != b and users:
            by_product[a].append((-len(users), b))
    return [(a, rank, b, -n) for a in sorted(by_product)
            for rank, (n, b) in enumerate(sorted(by_product[a])[:k], 1)]


def brute_together(events, kind, k):
    who = defaultdict(set)
    for _, _, event_kind, product, user, _ in _rows(events):
        if event_kind == kind and user is not None:
            who[product].add(user)
    return _top_k({(a, b): who[a] & who[b] for a in who for b in who}, k)


def brute_viewed_then_bought(events, k):
    seen = defaultdict(list)
    for position, time, kind, product, user, _ in _rows(events):
        if kind in ("product-view", "purchase") and user is not None:
            seen[user].append((kind, product, (time, position)))
    pairs = defaultdict(set)
    for user, acts in seen.items():
        for kind_a, a, when_a in acts:
            for kind_b, b, when_b in acts:
                if kind_a == "product-view" and kind_b == "purchase" and when_a < when_b:
                    pairs[a, b].add(user)
    return _top_k(pairs, k)


def _tuples(frame):
    return [tuple(row) for row in frame.itertuples(index=False)]


# The analyses against it. -----------------------------------------------------------------------------

@fast
@given(event_lists)
def test_sales_by_contributor_matches_brute_force(events):
    expected, _, _ = brute_sales(events)
    got = analysis.sales_by_contributor(events)
    assert list(got.columns) == ["role", "userId", "name", "productId", "sales", "firstSale", "lastSale"]
    assert _tuples(got) == [(r[0], r[1], r[2], r[3], r[4], pd.Timestamp(r[5]), pd.Timestamp(r[6]))
                            for r in expected]


@pytest.mark.slow
@fast
@given(event_lists)
def test_scores_from_frame_match_brute_force_and_the_reference(events):
    from hello_winners.game import reference

    _, totals, names = brute_sales(events)
    expected = sorted(((role, user, names[role][user], n) for (role, user), n in totals.items()),
                      key=lambda r: (r[0], -r[3], r[1]))
    got = analysis.scores_from_frame(eventlog.to_frame(events))
    assert _tuples(got) == expected
    assert got["score"].dtype == "int64"
    answer = reference.winners(events)  # every generated event is valid, so the reference sees them all
    for role in ("merchant", "photographer"):
        mine = got[got["role"] == role]
        assert [dict(userId=u, name=n, score=s) for u, n, s in zip(mine["userId"], mine["name"], mine["score"])] \
            == answer[role]


@fast
@given(event_lists, st.integers(1, 3))
def test_sales_race_counts_up_each_leaders_purchases_in_time_order(events, top):
    _, totals, names = brute_sales(events)
    owners, _ = brute_owners(events)
    leaders = sorted((user for role, user in totals if role == "merchant"),
                     key=lambda user: (-totals["merchant", user], user))[:top]
    expected = []
    for user in leaders:
        times = sorted(t for _, t, kind, product, _, _ in _rows(events)
                       if kind == "purchase" and owners["merchant"].get(product) == user)
        expected += [(pd.Timestamp(t), user, names["merchant"][user], n) for n, t in enumerate(times, 1)]
    assert _tuples(analysis.sales_race(events, "merchant", top=top)) == expected


@fast
@given(event_lists, st.integers(1, 3))
def test_hot_products_match_brute_force(events, min_views):
    expected = [(rank, p, n) for rank, (p, n) in enumerate(brute_hot(events, min_views), 1)]
    assert _tuples(analysis.hot_products(events, top=None, min_views=min_views)) == expected
    assert _tuples(analysis.hot_products(events, top=2, min_views=min_views)) == expected[:2]


@fast
@given(event_lists, st.sampled_from(["1min", "2min", "4min"]), st.integers(0, 6))
def test_trending_matches_brute_force_exactly_on_whole_minutes(events, half_life, as_of_minute):
    # Whole-minute ages and halvings make every weight a power of two: sums are exact, ties are ties.
    as_of = START + timedelta(minutes=as_of_minute)
    expected = brute_trending(events, as_of, pd.Timedelta(half_life).total_seconds(), 1.0, 4.0)
    got = analysis.trending(events, as_of=as_of, half_life=half_life, purchase_weight=4.0, top=None)
    assert _tuples(got) == [(rank, *row) for rank, row in enumerate(expected, 1)]


@fast
@given(event_lists)
def test_trending_scores_match_brute_force_for_any_half_life(events):
    expected = {p: s for p, s, _, _ in brute_trending(events, START + timedelta(minutes=3), 97.3, 1.0, 5.0)}
    got = analysis.trending(events, as_of=(START + timedelta(minutes=3)).replace(tzinfo=None),
                            half_life=pd.Timedelta(seconds=97.3), top=None)
    assert dict(zip(got["productId"], got["score"])) == pytest.approx(expected)


def test_trending_lets_yesterdays_hit_fade():
    old = [ev.product_view("u1", "U", "old-hit", time=START - timedelta(days=1)) for _ in range(50)]
    new = [ev.product_view("u2", "U", "new", time=START)]
    top = analysis.trending(old + new, half_life="1h", top=2)
    assert list(top["productId"]) == ["new", "old-hit"]
    assert list(top["views"]) == [1, 50]


@fast
@given(event_lists, st.integers(1, 3))
def test_also_viewed_matches_brute_force(events, k):
    assert _tuples(analysis.also_viewed(events, k=k)) == brute_together(events, "product-view", k)


@fast
@given(event_lists, st.integers(1, 3))
def test_bought_also_bought_matches_brute_force(events, k):
    assert _tuples(analysis.bought_also_bought(events, k=k)) == brute_together(events, "purchase", k)


@fast
@given(event_lists, st.integers(1, 3))
def test_viewed_then_bought_matches_brute_force(events, k):
    assert _tuples(analysis.viewed_then_bought(events, k=k)) == brute_viewed_then_bought(events, k)


def test_co_occurrence_blocks_and_chunks_give_the_same_answer(monkeypatch):
    """Tiny block and chunk bounds force the memory-bounded paths a busy day takes."""
    events = [_event(kind, who, product, minute) for minute in range(4) for who in range(4)
              for product in range(7) for kind in ("product-view", "purchase") if (who + product + minute) % 3]
    expected = {"also": analysis.also_viewed(events, 3), "then": analysis.viewed_then_bought(events, 3)}
    monkeypatch.setattr(cooccurrence, "_BLOCK_CELLS", 10)
    monkeypatch.setattr(cooccurrence, "_CHUNK_ROWS", 5)
    pd.testing.assert_frame_equal(analysis.also_viewed(events, 3), expected["also"])
    pd.testing.assert_frame_equal(analysis.viewed_then_bought(events, 3), expected["then"])


def test_empty_log_gives_empty_typed_results():
    for result in (analysis.hot_products([]), analysis.trending([]), analysis.also_viewed([]),
                   analysis.viewed_then_bought([]), analysis.sales_by_contributor([]),
                   analysis.scores_from_frame([]), analysis.sales_race([], "merchant")):
        assert result.empty


def test_bad_arguments_raise_config_errors():
    with pytest.raises(ConfigError, match="half_life"):
        analysis.trending([], half_life="0s")
    with pytest.raises(ConfigError, match="role"):
        analysis.sales_race([], "customer")


def test_read_log_frame_reads_a_written_log(tmp_path):
    events = [_event("create", 0, 1, 0), _event("purchase", 2, 1, 1)]
    eventlog.write_log(tmp_path / "day.jsonl.gz", events)
    frame = analysis.read_log_frame(tmp_path / "day.jsonl.gz")
    assert list(frame["kind"]) == ["create", "purchase"]


# Reading the tables (moto in-process). ----------------------------------------------------------------

@pytest.fixture
def dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def _scores_table(client, name):
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"},
                                   {"AttributeName": "role", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "userId", "AttributeType": "S"},
                                              {"AttributeName": "role", "AttributeType": "S"}])


def test_read_scores_pages_through_the_whole_table_with_typed_columns(dynamodb):
    _scores_table(dynamodb, "t-scores")
    for i in range(120):
        dynamodb.put_item(TableName="t-scores", Item={
            "userId": {"S": f"u{i:03d}"}, "role": {"S": "merchant" if i % 2 else "photographer"},
            "score": {"N": str(i % 7)}, "name": {"S": f"Name {i}"}, "padding": {"S": "x" * 9_000}})
    scans = []
    dynamodb.meta.events.register("provide-client-params.dynamodb.Scan", lambda params, **_: scans.append(params))
    scores = analysis.read_scores(dynamodb, "t-scores")
    assert len(scans) > 1, "a table over 1 MB needs more than one Scan page"
    assert all(scan["ConsistentRead"] for scan in scans), "a lesson compares right after writing: read consistently"
    assert len(scores) == 120 and scores["score"].dtype == "int64" and scores["userId"].dtype == "string"
    merchants = scores[scores["role"] == "merchant"]
    assert list(merchants["score"]) == sorted(merchants["score"], reverse=True)


def test_read_contributions_types_missing_contributors_as_nulls(dynamodb):
    dynamodb.create_table(TableName="t-contributions", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "productId", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "productId", "AttributeType": "S"}])
    dynamodb.put_item(TableName="t-contributions", Item={
        "productId": {"S": "p1"}, "merchant": {"S": "a"}, "merchantName": {"S": "Ann"}, "purchases": {"N": "3"}})
    dynamodb.put_item(TableName="t-contributions", Item={"productId": {"S": "p0"}, "purchases": {"N": "1"}})
    table = analysis.read_contributions(dynamodb, "t-contributions")
    assert list(table["productId"]) == ["p0", "p1"] and list(table["purchases"]) == [1, 3]
    assert table["photographer"].isna().all() and table.loc[1, "merchantName"] == "Ann"


def test_reading_a_missing_table_says_what_to_do(dynamodb):
    with pytest.raises(ConfigError, match="does not exist"):
        analysis.read_scores(dynamodb, "no-such-table")


def test_read_stream_frame_reads_every_shard():
    from hello_winners.game import stream

    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        kinesis.create_stream(StreamName="s", ShardCount=2)
        events = [_event("product-view", 0, product, 0) for product in range(6)]
        stream.put_events(kinesis, "s", events)
        frame = analysis.read_stream_frame(kinesis, "s")
    assert sorted(frame["productId"]) == [f"p{i}" for i in range(6)]



def test_attribution_names_every_contributor_of_the_workshop_day_by_their_own_origin():
    """Names must follow their user ids (a categorical lookup once read them against the wrong categories)."""
    from pathlib import Path

    from hello_winners.game import eventlog
    from hello_winners import events as ev

    day = list(eventlog.read_log(Path(__file__).resolve().parents[1] / "data" / "workshop-day.jsonl"))
    expected = {}
    for event in day:
        role = {"create": "merchant", "image": "photographer"}.get(ev.kind(event))
        if role:
            expected.setdefault((event["data"]["id"], role), ev.parse_origin(event["origin"]))
    attributed = analysis.attribution(day)
    seen = {}
    for row in attributed.itertuples():
        for role in ("merchant", "photographer"):
            if not pd.isna(getattr(row, role)):
                seen[(row.productId, role)] = (getattr(row, role), getattr(row, role + "Name"))
    assert seen == expected
