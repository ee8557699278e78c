"""The retry of a call that names a new role: prompt at first, polite to Lambda's control plane after."""

import itertools

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from hello_winners.deploy import propagation

NOT_READY = ClientError({"Error": {"Code": "InvalidParameterValueException",
                                   "Message": "The role defined for the function cannot be assumed by Lambda."}},
                        "CreateFunction")


def waits_until_ready(refusals):
    """The sleeps between ``refusals`` refusals and the call that goes through, and what was said."""
    slept, heard, attempts = [], [], itertools.count(1)

    def call():
        if next(attempts) <= refusals:
            raise NOT_READY
        return "created"

    assert propagation.until_role_ready(call, report=heard.append, sleep=slept.append) == "created"
    return slept, heard


@given(st.integers(1, 16))  # refusals that end well within the patience
def test_a_new_role_is_asked_about_every_half_second_early_on_and_never_more_than_twice_a_second(refusals):
    slept, heard = waits_until_ready(refusals)
    early = list(itertools.takewhile(lambda total: total < propagation.PROMPT_S, itertools.accumulate(slept)))
    assert all(0.4 <= wait <= 0.6 for wait in slept[:len(early)])  # on within half a second of readiness
    assert len(heard) == refusals and all("retrying in" in line for line in heard)


def test_a_role_that_never_becomes_usable_is_asked_about_less_and_less_then_given_up():
    slept = []

    def never_ready():
        raise NOT_READY

    with pytest.raises(ClientError, match="cannot be assumed by Lambda"):
        propagation.until_role_ready(never_ready, report=lambda line: None, sleep=slept.append)
    assert min(slept) >= 0.4  # never more than about twice a second
    assert max(slept) <= 15 and propagation.PATIENCE_S <= sum(slept) <= propagation.PATIENCE_S + 15


def test_the_wait_is_told_to_a_tenth_of_a_second():
    _, heard = waits_until_ready(1)
    assert heard[0].rstrip().endswith(" s") and "retrying in 0 s" not in heard[0]
    assert "." in heard[0].rpartition("retrying in ")[2]
