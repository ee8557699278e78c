"""Stage names: used exactly as given or refused with one sentence, and whose stage it is by default."""

import getpass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hello_winners import cli, naming, targets
from hello_winners.targets import target
from hello_winners.deploy.names import Names
from hello_winners.errors import ConfigError
from hello_winners.view import tables

USABLE = st.from_regex(rf"[a-z][a-z0-9-]{{0,{naming.STAGE_MAX - 1}}}", fullmatch=True)
# AWS's length limits on the kinds of names a stage derives.
LIMITS = {"role": 64, "function": 64, "stream": 128, "table": 255, "api": 128, "log group": 512}


SANDBOX = st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True)
LESSONS_SANDBOXES = ("mine", "naive", "once", "kit")


def every_name(stage, sandboxes=LESSONS_SANDBOXES):
    """Every resource name the kit derives from a stage, by kind, the lessons' sandbox tables included."""
    names = Names(naming.prefix(stage), "us-east-1", "123456789012")
    kinds = naming.FUNCTION_KINDS
    sandbox_tables = {("table", t) for box in sandboxes
                      for t in tables.table_names(naming.sandbox_prefix(names.prefix, box)).values()}
    return {("role", names.role(k)) for k in kinds} | {("function", names.function(k)) for k in kinds} | {
        ("log group", names.log_group(k)) for k in kinds} | {("table", t) for t in names.tables.values()} | {
        ("stream", names.stream), ("api", names.api)} | sandbox_tables


@given(USABLE)
def test_a_usable_stage_is_used_exactly_as_given(stage):
    assert naming.stage_name(stage) == stage
    assert all(stage in name and len(name) <= LIMITS[kind] for kind, name in every_name(stage))


@given(USABLE, USABLE, st.lists(SANDBOX, max_size=3))
def test_two_different_stages_never_share_a_resource_name(first, second, sandboxes):
    if first != second:
        sandboxes = (*LESSONS_SANDBOXES, *sandboxes)
        assert not {n for _, n in every_name(first, sandboxes)} & {n for _, n in every_name(second, sandboxes)}


def test_a_sandbox_is_named_so_that_no_stage_can_hold_its_tables():
    assert tables.table_names(naming.sandbox_prefix("hw-alice-", "naive"))[tables.SCORES] == "hw-alice-naive.scores"
    assert naming.prefix("alice-naive") + "scores" == "hw-alice-naive-scores"
    with pytest.raises(ConfigError, match="lowercase letters and digits, such as 'mine'"):
        naming.sandbox_prefix("hw-alice-", "my-box")


@given(st.text(max_size=60).filter(lambda s: not naming._STAGE_SHAPE.match(s) or len(s) > naming.STAGE_MAX))
def test_any_other_stage_is_refused_never_rewritten(stage):
    with pytest.raises(ConfigError, match="stage"):
        naming.stage_name(stage)


def test_stages_that_differ_only_at_the_end_stay_different():
    assert naming.stage_name("alice-workshop-2024-a") != naming.stage_name("alice-workshop-2024-b")


def test_a_stage_too_long_for_the_longest_name_says_how_long_it_may_be():
    longest = "a" * naming.STAGE_MAX
    assert len(naming.role(naming.prefix(longest), "consumer")) == 64
    with pytest.raises(ConfigError) as refused:
        naming.stage_name(longest + "b")
    message = str(refused.value)
    assert f"has {naming.STAGE_MAX + 1} characters" in message
    assert f"IAM role hw-<stage>-winner-consumer-role, leaves room for {naming.STAGE_MAX}" in message


@pytest.mark.parametrize("stage, why", [("Alice", "lowercase"), ("alice_1", "lowercase"), ("2alice", "starts with a letter"),
                                        ("alice smith", "lowercase"), ("alice@example.com", "lowercase")])
def test_an_unusable_stage_says_what_to_use(stage, why):
    with pytest.raises(ConfigError, match=why):
        naming.stage_name(stage)


def test_an_empty_stage_is_refused_and_an_absent_one_is_the_default(monkeypatch):
    with pytest.raises(ConfigError, match="the stage is empty"):
        naming.stage_name("")
    monkeypatch.setenv(naming.STAGE_ENV, "")
    with pytest.raises(ConfigError, match=f"the stage is empty \\(from {naming.STAGE_ENV}\\)"):
        naming.stage_name()
    monkeypatch.delenv(naming.STAGE_ENV)
    assert naming.stage_name(None, default=lambda: "bob") == "bob"


def test_teardown_with_an_empty_stage_deletes_nothing_and_says_why(capsys, monkeypatch):
    monkeypatch.setattr("hello_winners.workshop.play.teardown", lambda *a, **k: pytest.fail("teardown ran"))
    assert cli.main(["teardown", "--stage", ""]) == 1
    assert "the stage is empty (given)" in capsys.readouterr().err


@pytest.mark.parametrize("arn, name", [
    ("arn:aws:iam::123456789012:user/alice", "alice"),
    ("arn:aws:iam::123456789012:user/division/team/bob", "bob"),
    ("arn:aws:sts::123456789012:assumed-role/Participants/carol", "carol"),
    ("arn:aws-cn:sts::123456789012:federated-user/dave", "dave"),
])
def test_the_caller_is_named_by_its_user_or_session_name(arn, name):
    assert naming.caller_name(arn) == name


def test_on_aws_the_default_stage_is_the_callers_name_not_the_os_user(mocked_aws, monkeypatch):
    monkeypatch.delenv(naming.STAGE_ENV)
    monkeypatch.setattr(getpass, "getuser", lambda: "jovyan")
    assert targets.settings().stage == "moto"  # moto's caller: arn:aws:sts::123456789012:user/moto
    assert targets.settings(targets.EMBEDDED).stage == "jovyan"
    assert targets.settings(stage="alice").stage == "alice"


def test_an_aws_identity_unusable_as_a_stage_asks_for_one(mocked_aws, monkeypatch):
    monkeypatch.delenv(naming.STAGE_ENV)
    monkeypatch.setattr(target, "_caller_name", lambda: "Alice.Smith@example.com")
    with pytest.raises(ConfigError, match=r"\(your AWS identity, the default\).*--stage or HELLO_WINNERS_STAGE"):
        targets.settings()
