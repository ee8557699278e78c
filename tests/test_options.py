"""Deploy options outside what AWS accepts are refused in one sentence, before any AWS call is made."""

import contextlib
import io

import boto3
import pytest
from hypothesis import given, strategies as st

from hello_winners import cli, targets
from hello_winners.deploy import models
from hello_winners.errors import ConfigError

# What AWS documents for each option (Kinesis event source mappings, Lambda functions, Kinesis streams).
DOCUMENTED = {
    "shards": (1, 500),  # Kinesis's default shard quota an account (issue 23: 10**20 grew moto to 6.6 GB)
    "batch_size": (1, 10_000),
    "batching_window_s": (0, 300),
    "max_retry_attempts": (-1, 10_000),
    "consumer_memory_mb": (128, 10_240),
    "consumer_timeout_s": (1, 900),
    "api_memory_mb": (128, 10_240),
    "api_timeout_s": (1, 900),
}
FLAGS = {"shards": "--shards", "batch_size": "--batch-size", "batching_window_s": "--batching-window"}


def _outside(low, high):
    below = st.integers(max_value=low - 1)
    return below if high is None else below | st.integers(min_value=high + 1)


def _inside(low, high):
    return st.integers(min_value=low, max_value=high if high is not None else low + 100_000)


@contextlib.contextmanager
def _no_aws():
    """Any attempt to reach AWS (a target, a session, a client) fails the test."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("an AWS client was asked for before the options were checked")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(targets, "get", refuse)
        patch.setattr(boto3, "client", refuse)
        patch.setattr(boto3.Session, "client", refuse)
        yield


def test_the_documented_limits_cover_every_option():
    assert set(DOCUMENTED) == {field.name for field in models.Options.__dataclass_fields__.values()}


@pytest.mark.parametrize("option", sorted(DOCUMENTED))
@given(data=st.data())
def test_a_value_outside_the_documented_range_is_refused_naming_the_option_value_and_range(option, data):
    low, high = DOCUMENTED[option]
    value = data.draw(_outside(low, high))
    with pytest.raises(ConfigError) as refused:
        models.Options(**{option: value})
    sentence = str(refused.value)
    assert models.Options.label(option) in sentence and f"{value:,}" in sentence
    assert f"{low:,}" in sentence and (high is None or f"{high:,}" in sentence)
    assert "\n" not in sentence


@pytest.mark.parametrize("option", sorted(DOCUMENTED))
@given(data=st.data())
def test_a_value_inside_the_documented_range_is_accepted(option, data):
    value = data.draw(_inside(*DOCUMENTED[option]))
    assert getattr(models.Options(**{option: value}), option) == value


@pytest.mark.parametrize("value", [True, 1.5, "100", None])
def test_a_value_that_is_not_a_whole_number_is_refused(value):
    with pytest.raises(ConfigError, match="whole number"):
        models.Options(batch_size=value)


@pytest.mark.slow
@pytest.mark.parametrize("option", sorted(FLAGS))
@given(data=st.data())
def test_the_deploy_command_refuses_a_bad_value_in_one_line_before_any_aws_call(option, data):
    value = data.draw(_outside(*DOCUMENTED[option]))
    out, err = io.StringIO(), io.StringIO()
    with _no_aws(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["deploy", FLAGS[option], str(value)])
    out, err = out.getvalue(), err.getvalue()
    assert status == 1 and out == ""
    assert err.startswith("hello-winners: ") and err.count("\n") == 1 and "Traceback" not in err
    assert models.Options.label(option) in err and f"{value:,}" in err


def test_the_reported_shard_count_is_refused_in_one_sentence_before_any_aws_call():
    err = io.StringIO()
    with _no_aws(), contextlib.redirect_stderr(err):
        assert cli.main(["deploy", "--shards", "99999999999999999999"]) == 1
    assert err.getvalue().count("\n") == 1 and "1 to 500 shards" in err.getvalue()


@pytest.mark.parametrize("port", ["1", "22", "1023", "65536"])
def test_a_port_outside_1024_to_65535_is_refused(port):
    from hello_winners.embedded import server

    with pytest.raises(ConfigError, match="1024-65535"):
        server._choose_port(port)


def test_policy_for_an_unknown_region_is_refused_in_one_sentence():
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli.main(["policy", "--region", "zz-evil-1"]) == 1
    assert err.getvalue().count("\n") == 1 and "is not an AWS region" in err.getvalue()
