"""The leaderboard as text: one definition of who leads and how the boards read, for the API and the terminal.

A board is ``{"merchant": [entry, ...], "photographer": [...]}`` with entries ``{"userId", "name",
"score"}`` highest score first, as the API's ``/scores`` and ``/winners`` give them. Everyone sharing
the highest score of a role leads it.
"""

from __future__ import annotations

from hello_winners.events import ROLES

NOBODY_YET = "Nobody has sold anything yet."
# C0 and C1 controls, and the two Unicode separators that start a new line: each shown as its escape.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    0x2028: "\\u2028", 0x2029: "\\u2029"}


def printable(text: object) -> str:
    """``text`` with every control character shown as its escape (``\\x1b``), other characters as they are.

    Names are data: one shown in a terminal must not move the cursor, set the window title, clear the
    screen or start a new line that reads like a leaderboard row.

    >>> printable("Eve\\x1b]0;hi\\x07\\nBo")
    'Eve\\\\x1b]0;hi\\\\x07\\\\x0aBo'
    """
    return str(text).translate(_ESCAPES)


def leading(entries: list[dict]) -> list[dict]:
    """The entries that share the highest score (all of them when tied); [] for an empty board."""
    return [entry for entry in entries if entry["score"] == entries[0]["score"]] if entries else []


def ranks(scores: list[int]) -> list[int]:
    """Standard competition ranks of scores sorted highest first, as the leaderboard page numbers them:
    equal scores share a rank and the next one skips (1, 2, 2, 4).

    >>> ranks([9, 7, 7, 3])
    [1, 2, 2, 4]
    """
    return [next(i for i, earlier in enumerate(scores, 1) if earlier == score) for score in scores]


def summary(board: dict[str, list[dict]]) -> str:
    """One sentence per role saying who leads it."""
    if not any(board.get(role) for role in ROLES):
        return NOBODY_YET
    return " ".join(_lead_sentence(role, leading(board.get(role) or [])) for role in ROLES)


def table(board: dict[str, list[dict]], top: int = 10) -> str:
    """Both leaderboards as text, the leaders of each role marked with a star."""
    lines = []
    for role in ROLES:
        entries = board.get(role) or []
        best = entries[0]["score"] if entries else None
        lines += ["", f"{role.upper()}S" + ("" if entries else ": nobody has sold anything yet")]
        for rank, entry in zip(ranks([e["score"] for e in entries[:top]]), entries[:top]):
            mark = "*" if entry["score"] == best else " "
            name, user = printable(entry["name"]), printable(entry["userId"])
            lines.append(f" {mark} {rank:>2}. {name:<20} {entry['score']:>4}  {user}")
        if len(entries) > top:
            lines.append(f"      ... and {len(entries) - top} more")
    lines.append("\n* winner")
    return "\n".join(lines)


def _lead_sentence(role: str, people: list[dict]) -> str:
    if not people:
        return f"No {role} has sold anything yet."
    names = [printable(person["name"]) for person in people]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    score = people[0]["score"]
    sales = "sale" if score == 1 else "sales"
    if len(names) == 1:
        return f"{who} leads the {role}s with {score} {sales}."
    return f"{who} share the lead of the {role}s with {score} {sales} each."
