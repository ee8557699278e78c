"""Which photographer photographs which product: the original's photo assignment, as a pure rule.

Hello, Retail!'s step function gave each new product to one registered photographer: the one with the
fewest completed photos, holding at most one open assignment at a time (so two products never take
the same photographer at once), never one already tried for that product; an assignment not done
within the wait was withdrawn and the product went to the next photographer; with nobody free, it
waited and tried again. The room keeps those rules and adds two of its own:

- a photographer is never sent to a product they added as merchant (the game's rule);
- once every photographer who may take a product has been tried, the list of those tried starts
  over, so a product in a small room is not left without a photo for ever.

Ties in the photo count go to whoever joined first. Time is passed in (seconds), never read here.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable


@dataclasses.dataclass
class Open:
    """An open assignment: ``photographer`` was asked for ``product``'s photo at ``since`` (seconds)."""

    product: str
    photographer: str
    since: float


class Assignments:
    """The open assignments, who was tried for each product, and how many photos each photographer took."""

    def __init__(self) -> None:
        self.open: dict[str, Open] = {}  # product -> its open assignment
        self.holding: dict[str, str] = {}  # photographer -> the product they are asked for
        self.tried: dict[str, list[str]] = {}  # product -> photographers asked for it, in order
        self.done: Counter[str] = Counter()  # photographer -> photos taken

    def assign(self, product: str, photographer: str, since: float) -> None:
        """Record that ``photographer`` is asked for ``product``'s photo."""
        self.withdraw(product)
        self.open[product] = Open(product, photographer, since)
        self.holding[photographer] = product
        self.tried.setdefault(product, []).append(photographer)

    def withdraw(self, product: str) -> Open | None:
        """Close ``product``'s open assignment without a photo; the closed assignment, if there was one."""
        closed = self.open.pop(product, None)
        if closed is not None and self.holding.get(closed.photographer) == product:
            del self.holding[closed.photographer]
        return closed

    def photographed(self, product: str, photographer: str) -> None:
        """``photographer`` took ``product``'s photo: its assignment closes and their count grows."""
        self.withdraw(product)
        self.tried.pop(product, None)
        self.done[photographer] += 1

    def choose(self, product: str, photographers: Iterable[str], merchant: str | None) -> str | None:
        """Who should photograph ``product`` now: of ``photographers`` (in the order they joined), the
        least loaded one who is free, not its merchant and not yet tried; None when nobody is free."""
        allowed = [who for who in photographers if who != merchant]
        tried = set(self.tried.get(product, ()))
        if allowed and tried.issuperset(allowed):  # everyone had their chance: start over
            tried = set()
        free = [who for who in allowed if who not in self.holding and who not in tried]
        if not free:
            return None
        order = {who: index for index, who in enumerate(free)}
        return min(free, key=lambda who: (self.done[who], order[who]))

    def overdue(self, now: float, wait_s: float) -> list[Open]:
        """The open assignments asked for ``wait_s`` seconds or more before ``now``, oldest first."""
        return sorted((a for a in self.open.values() if now - a.since >= wait_s), key=lambda a: a.since)
