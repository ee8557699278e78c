"""The room as it stands: participants, products, photos, assignments and counts, folded from its two files.

The room log holds the retail events (the truth that goes on the stream), the journal holds what is
the room's own business (who joined with which roles, photo assignments, what the instructor closed or
hid). Both are folded here by pure functions, in file order, so the room after a restart is exactly
the room before it. Nothing here reads a clock or a file: the server feeds it.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable

from hello_winners import events
from hello_winners.room.assignment import Assignments

MERCHANT, PHOTOGRAPHER, CUSTOMER = "merchant", "photographer", "customer"
ROLES = (MERCHANT, PHOTOGRAPHER, CUSTOMER)


@dataclasses.dataclass
class Participant:
    """Someone who joined: ``id`` is the unique id in their events' origins, ``token`` the SHA-256 of
    their session token (the token itself is never stored)."""

    id: str
    name: str
    roles: tuple[str, ...]
    token: str
    joined: int  # the order in which they joined
    removed: bool = False


@dataclasses.dataclass(frozen=True)
class Kit:
    """A participant's kit following the room from their laptop: ``token`` is the SHA-256 of its token."""

    id: str
    name: str
    token: str


@dataclasses.dataclass
class Product:
    """A product of the room's catalogue, with who added and photographed it and how often it sold."""

    id: str
    merchant: str
    merchant_name: str
    name: str
    brand: str
    description: str
    category: str
    price: str | None
    position: int  # where its create event sits in the room log
    image: str | None = None
    photographer: str | None = None
    photographer_name: str | None = None
    purchases: int = 0
    views: int = 0
    hidden: bool = False


class Ledger:
    """The folded room. ``apply_event`` takes the room log's events, ``apply_record`` the journal's records."""

    def __init__(self) -> None:
        self.participants: dict[str, Participant] = {}
        self.by_token: dict[str, str] = {}
        self.by_name: dict[str, str] = {}  # text.name_key(name) -> participant id
        self.products: dict[str, Product] = {}
        self.kits: dict[str, Kit] = {}
        self.kit_by_token: dict[str, str] = {}
        self.kit_by_name: dict[str, str] = {}  # text.name_key(name) -> kit id
        self.assignments = Assignments()
        self.joining_open = True
        self.kinds: Counter[str] = Counter()  # events of each kind in the room log
        self.position = 0  # events folded so far: the next event's position

    # --- the room log ------------------------------------------------------------------------------

    def apply_event(self, event: dict) -> None:
        """Fold one event of the room log (already validated when it was accepted)."""
        kind = events.kind(event)
        who = events.parse_origin(event["origin"]) or ("", "")
        data = event["data"]
        self.kinds[kind] += 1
        if kind == "create" and data["id"] not in self.products:
            self.products[data["id"]] = Product(
                id=data["id"], merchant=who[0], merchant_name=who[1], name=data["name"], brand=data["brand"],
                description=data["description"], category=data["category"], price=data.get("price"),
                position=self.position)
        elif kind == "image" and data["id"] in self.products:
            product = self.products[data["id"]]
            if product.image is None:
                product.image, product.photographer, product.photographer_name = data["image"], who[0], who[1]
                self.assignments.photographed(product.id, who[0])
        elif kind == "purchase" and data["id"] in self.products:
            self.products[data["id"]].purchases += 1
        elif kind == "product-view" and data["id"] in self.products:
            self.products[data["id"]].views += 1
        self.position += 1

    # --- the journal -------------------------------------------------------------------------------

    def apply_record(self, record: dict) -> None:
        """Fold one record of the journal."""
        kind = record["kind"]
        if kind == "join":
            person = Participant(record["id"], record["name"], tuple(record["roles"]), record["token"],
                                 joined=len(self.participants))
            self.participants[person.id] = person
            self.by_token[person.token] = person.id
            self.by_name[record["key"]] = person.id
        elif kind == "kit":
            self.kits[record["id"]] = Kit(record["id"], record["name"], record["token"])
            self.kit_by_token[record["token"]] = record["id"]
            self.kit_by_name[record["key"]] = record["id"]
        elif kind == "joining":
            self.joining_open = bool(record["open"])
        elif kind in ("roles", "remove") and record["id"] in self.participants:
            person = self.participants[record["id"]]
            if kind == "roles":
                person.roles = tuple(record["roles"])
            else:
                person.removed = True
                self.by_token.pop(person.token, None)
        elif record.get("product") in self.products:  # else a record whose product never became durable
            product = self.products[record["product"]]
            if kind == "hide":
                product.hidden = bool(record["hidden"])
            elif kind == "assign" and product.image is None:
                self.assignments.assign(product.id, record["photographer"], record["at"])
            elif kind == "withdraw":
                self.assignments.withdraw(product.id)

    def fold(self, log_lines: Iterable[bytes], journal_lines: Iterable[bytes]) -> Ledger:
        """Fold both files as they interleaved when written: each journal record carries ``log``, how many
        events the room had folded when it was made, and is applied right after that many. Returns self."""
        log_lines = iter(log_lines)
        for line in journal_lines:
            record = json.loads(line)
            while self.position < record.get("log", 0):
                following = next(log_lines, None)
                if following is None:
                    break
                self.apply_event(events.decode(following))
            self.apply_record(record)
        for line in log_lines:
            self.apply_event(events.decode(line))
        return self

    # --- reading -----------------------------------------------------------------------------------

    def participant(self, token_hash: str) -> Participant | None:
        """The participant holding a session token (by its hash), unless removed."""
        found = self.by_token.get(token_hash)
        return self.participants[found] if found else None

    def kit(self, token_hash: str) -> Kit | None:
        """The kit holding a token (by its hash)."""
        found = self.kit_by_token.get(token_hash)
        return self.kits[found] if found else None

    def photographers(self) -> list[str]:
        """Who may be asked for photos now, in the order they joined."""
        return [p.id for p in self.participants.values() if PHOTOGRAPHER in p.roles and not p.removed]

    def catalogue(self, category: str | None = None) -> list[Product]:
        """The products customers see (not hidden), newest first; of one category when given."""
        shown = [p for p in self.products.values() if not p.hidden and category in (None, p.category)]
        return shown[::-1]

    def counts(self) -> dict[str, int]:
        """What the projector counts: participants of each role, products, photos, sales."""
        present = [p for p in self.participants.values() if not p.removed]
        return {"participants": len(present),
                **{f"{role}s": sum(role in p.roles for p in present) for role in ROLES},
                "products": len(self.products), "photos": self.kinds["image"], "sales": self.kinds["purchase"]}
