"""The leaderboard as terminal text: names are shown as data, never as control codes or extra rows."""

import string
import unicodedata

from hypothesis import given, strategies as st

from hello_winners import cli
from hello_winners.view import board

NAMES = st.text() | st.sampled_from(["\x1b]0;pwned\x07Eve", "\x1b[2J\x1b[31mMallory", "Ann\n * 1. Eve 9999  x",
                                     "Bo\r * 1. Bo  9999", "Cy\x85Dee\u2028Fay\x9b31m"])
ENTRIES = st.lists(st.fixed_dictionaries({"userId": NAMES, "name": NAMES, "score": st.integers(1, 9999)}),
                   max_size=12).map(lambda entries: sorted(entries, key=lambda e: -e["score"]))


def _controls(text):
    """Characters a terminal could act on: C0 and C1 controls, and the Unicode line and paragraph separators."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp") and c != "\n"]


@given(merchants=ENTRIES, photographers=ENTRIES)
def test_the_printed_board_has_one_line_per_row_and_no_control_characters_whatever_the_names(merchants,
                                                                                             photographers):
    shown = board.table({"merchant": merchants, "photographer": photographers})
    rows = sum(min(len(entries), 10) + (len(entries) > 10) for entries in (merchants, photographers))
    assert len(shown.splitlines()) == rows + 6  # a blank line and a title per role, a blank line and the key
    assert not _controls(shown)


@given(merchants=ENTRIES, photographers=ENTRIES)
def test_the_summary_is_one_line_without_control_characters_whatever_the_names(merchants, photographers):
    said = board.summary({"merchant": merchants, "photographer": photographers})
    assert "\n" not in said and not _controls(said)


def test_an_escape_sequence_in_a_name_is_shown_as_text():
    shown = board.table({"merchant": [{"userId": "u1", "name": "\x1b]0;pwned\x07Eve", "score": 3}]})
    assert "\\x1b]0;pwned\\x07Eve" in shown


@given(st.text(alphabet=string.printable.strip() + "äé漢字 ", max_size=30))
def test_a_printable_name_is_shown_unchanged(name):
    assert board.printable(name) == name


def test_an_error_naming_a_path_with_escape_codes_prints_them_as_text(capsys):
    status = cli.main(["play", "--log", "missing\x1b]0;pwned\x07.jsonl"])
    err = capsys.readouterr().err
    assert status == 1 and "\\x1b]0;pwned\\x07" in err and not _controls(err)


def test_ties_share_a_rank_on_the_command_line_as_on_the_page():
    merchants = [{"userId": u, "name": n, "score": s} for u, n, s in (("a", "Ann", 9), ("b", "Bo", 7), ("c", "Cy", 7),
                                                                       ("d", "Dee", 3))]
    shown = board.table({"merchant": merchants})
    assert [line.split(".")[0].split()[-1] for line in shown.splitlines() if ". " in line] == ["1", "2", "2", "4"]
    assert board.ranks([5, 5, 5]) == [1, 1, 1] and board.ranks([]) == []
