"""A room's account, planned then applied (moto's in-process IAM): the policies, the group, a user per participant."""

import json

import boto3
import pytest

from hello_winners import cli, naming
from hello_winners.deploy import executor, policies, room
from hello_winners.errors import ConfigError

REGION = "us-east-1"


@pytest.fixture
def iam(mocked_aws):
    return boto3.client("iam", region_name=REGION)


def account():
    return boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]


def the_room(*names):
    return room.Room(REGION, account(), "aws", room.participants(names))


def apply(iam, wanted):
    calls = room.plan(iam, wanted)
    executor.execute({"iam": iam}, calls, report=lambda line: None)
    return calls


def test_a_room_gets_its_policies_its_group_and_a_tagged_user_per_participant_then_nothing_more(iam):
    wanted = the_room("alice", "bob")
    calls = apply(iam, wanted)
    assert [c.method for c in calls] == ["create_policy", "create_policy", "create_group", "attach_group_policy",
                                         "create_user", "add_user_to_group", "create_user", "add_user_to_group"]
    for _name, arn, document in wanted.managed_policies():
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        stored = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        assert (json.loads(stored) if isinstance(stored, str) else stored) == document
    attached = iam.list_attached_group_policies(GroupName=room.GROUP)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [wanted.room_policy_arn]
    for name in ("alice", "bob"):
        user = iam.get_user(UserName=name)["User"]
        assert user["Path"] == room.USER_PATH
        assert {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]} == {naming.STAGE_TAG: name}
        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]] == [room.GROUP]
    assert room.plan(iam, wanted) == []
    assert room.existing_participants(iam) == ["alice", "bob"]


def test_a_later_participant_and_a_changed_policy_are_all_that_a_second_plan_holds(iam, monkeypatch):
    apply(iam, the_room("alice"))
    changed = {**policies.room(REGION, account()), "Statement": policies.room(REGION, account())["Statement"][:-1]}
    monkeypatch.setattr(policies, "room", lambda *args, **kwargs: changed)
    calls = room.plan(iam, the_room("alice", "carol"))
    assert [(c.method, c.params.get("UserName")) for c in calls] == [
        ("create_policy_version", None), ("create_user", "carol"), ("add_user_to_group", "carol")]
    executor.execute({"iam": iam}, calls, report=lambda line: None)
    wanted = the_room("alice")
    version = iam.get_policy(PolicyArn=wanted.room_policy_arn)["Policy"]["DefaultVersionId"]
    stored = iam.get_policy_version(PolicyArn=wanted.room_policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    assert (json.loads(stored) if isinstance(stored, str) else stored) == changed


def test_an_update_makes_room_for_itself_among_iams_five_versions(iam, monkeypatch):
    apply(iam, the_room("alice"))
    arn = the_room("alice").room_policy_arn
    for n in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps({**policies.room(), "Id": str(n)}),
                                  SetAsDefault=True)
    calls = room.plan(iam, the_room("alice"))
    assert [c.method for c in calls] == ["delete_policy_version", "create_policy_version"]
    assert calls[0].params["VersionId"] == "v1"  # the oldest, never the default
    executor.execute({"iam": iam}, calls, report=lambda line: None)
    assert room.plan(iam, the_room("alice")) == []


def test_a_participant_who_lost_their_tag_or_group_gets_them_back(iam):
    apply(iam, the_room("alice"))
    iam.untag_user(UserName="alice", TagKeys=[naming.STAGE_TAG])
    iam.remove_user_from_group(GroupName=room.GROUP, UserName="alice")
    assert [c.method for c in room.plan(iam, the_room("alice"))] == ["tag_user", "add_user_to_group"]


@pytest.mark.parametrize("names, message", [
    (["alice", "alice-2"], "'alice' and 'alice-2' cannot share a room"),
    (["bob", "alice", "alice-play"], "'alice' and 'alice-play' cannot share a room"),
    (["alice", "alice"], "listed twice"),
    (["Alice"], "lowercase letters"),
    (["#comment", ""], "no participant was named"),
])
def test_a_list_a_room_cannot_hold_is_refused_in_one_sentence(names, message):
    with pytest.raises(ConfigError, match=message):
        room.participants(names)


def test_a_name_beside_an_existing_participants_namespace_is_refused(iam):
    apply(iam, the_room("alice"))
    with pytest.raises(ConfigError, match="'alice' and 'alice-b' cannot share a room"):
        room.plan(iam, the_room("alice-b"))


def test_the_participant_of_a_stage_is_whoever_holds_its_namespace():
    assert room.participant_of("alice-play", ["alice", "bob"]) == "alice"
    assert room.participant_of("alice", ["alice-x"]) == "alice"
    assert room.participant_of("carol-play", []) == "carol"
    assert room.participant_of("play", []) == "play"


def test_room_account_prints_the_plan_and_applies_it_only_when_asked(mocked_aws, capsys, tmp_path):
    names = tmp_path / "room.txt"
    names.write_text("# the morning room\nalice\nbob\n")
    assert cli.main(["room-account", "--file", str(names), "carol"]) == 0
    out = capsys.readouterr().out
    assert "for 3 participants: 10 changes" in out and "create the user carol, tagged hello-winners:stage=carol" in out
    assert "--apply" in out
    iam = boto3.client("iam", region_name=REGION)
    assert room.existing_participants(iam) == []
    assert cli.main(["room-account", "alice", "bob", "carol", "--apply"]) == 0
    assert "aws iam create-access-key" in capsys.readouterr().out
    assert room.existing_participants(iam) == ["alice", "bob", "carol"]
    assert cli.main(["room-account", "alice"]) == 0
    assert "nothing to change" in capsys.readouterr().out


def test_room_account_refuses_a_file_it_cannot_read_in_one_sentence(mocked_aws, capsys, tmp_path):
    assert cli.main(["room-account", "--file", str(tmp_path / "missing.txt")]) == 1
    assert capsys.readouterr().err.startswith("hello-winners: cannot read the file of names")
