"""The lessons' set-up on real AWS (moto's in-process mock): what must hold where AWS is only eventually
consistent."""

from hello_winners.workshop import lessons


def test_a_sandbox_reset_reads_consistently_and_leaves_the_tables_empty(mocked_aws):
    here = lessons.reach(stage_name="alice")
    dynamodb = here.clients["dynamodb"]
    first = lessons.sandbox(here, "naive")
    dynamodb.put_item(TableName=first["TABLE_REJECTS_NAME"], Item={"eventId": {"S": "e1"}})
    scans = []
    dynamodb.meta.events.register("provide-client-params.dynamodb.Scan", lambda params, **_: scans.append(params))
    again = lessons.sandbox(here, "naive")
    assert again == first
    assert scans and all(scan["ConsistentRead"] for scan in scans)
    assert dynamodb.scan(TableName=first["TABLE_REJECTS_NAME"], ConsistentRead=True)["Count"] == 0


def test_putting_your_own_events_again_puts_nothing_twice(mocked_aws):
    from hello_winners import events
    from hello_winners.game import stream
    from hello_winners.workshop.exercises.solutions import put_event

    here = lessons.reach(stage_name="alice")
    lessons.ensure_stream(here)
    mine = [events.product_create("me", "Me", "p1", brand="B", name="N", description="D", category="C"),
            events.product_purchase("friend", "Friend", "p1")]
    first = lessons.put_once(here, mine, put_event)
    again = lessons.put_once(here, [dict(e, timeOrigin="2030-01-01T00:00:00.000Z") for e in mine], put_event)
    assert again == first
    assert len(list(stream.read_stream(here.clients["kinesis"], here.stream))) == 2


def test_the_inventory_shows_the_play_stage_of_the_quick_start_beside_the_lessons_stage(mocked_aws):
    """Lesson 7 left `<stage>-play` on the account ($0.72 a day on AWS), unseen."""
    here = lessons.reach(stage_name="alice")
    mine, played = lessons.stages(here)
    assert (mine.stage, played.stage) == ("alice", "alice-play")
    lessons.ensure_stream(here)
    lessons.ensure_stream(lessons.reach(stage_name=played.stage))
    lessons.ensure_stream(lessons.reach(stage_name="alice-2"))  # another participant's, sharing the prefix
    left = lessons.inventory(here)
    assert list(left.columns) == ["stage", "kind", "name", "ours"]
    assert sorted(zip(left["stage"], left["kind"], left["name"])) == [
        ("alice", "stream", here.stream), ("alice-play", "stream", "hw-alice-play-retail-stream")]


def test_a_stage_name_too_long_for_the_play_suffix_has_no_play_stage(mocked_aws):
    here = lessons.reach(stage_name="a" * 40)
    assert [settings.stage for settings in lessons.stages(here)] == ["a" * 40]
    assert lessons.inventory(here).empty
