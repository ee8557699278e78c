"""What a participant or the instructor asks, decided: each returns the event or journal record to write,
or raises Refused with one sentence. Pure: the room's secrets, ids and the time are passed in.

Every event is built by the kit's own builders and checked by its own schemas (``events.validate``)
before it can reach the room log, so the room never writes what the consumer would reject.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from hello_winners import events
from hello_winners.errors import EventError
from hello_winners.room import text
from hello_winners.room.ledger import CUSTOMER, MERCHANT, PHOTOGRAPHER, ROLES, Ledger, Participant
from hello_winners.room.refusal import Refused


def token_hash(token: str) -> str:
    """What the room keeps of a session token: its SHA-256, so its files hold no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def roles_of(chosen: Iterable[object]) -> tuple[str, ...]:
    """The roles ticked, in the room's order; Refused when none (or an unknown one) is."""
    chosen = set(chosen)
    unknown = [role for role in chosen if role not in ROLES]
    if unknown:
        raise Refused(400, "That role does not exist here: choose merchant, photographer or customer.")
    if not chosen:
        raise Refused(400, "Choose at least one role: merchant, photographer or customer.")
    return tuple(role for role in ROLES if role in chosen)


def check_code(code: str, given_code: object) -> None:
    """Refuse (403) a room code that is not this room's, compared in constant time."""
    if not isinstance(given_code, str) or not hmac.compare_digest(given_code.strip().upper().encode(), code.encode()):
        raise Refused(403, "That room code is not this room's: check the code on the projector and type it again.")


def join(ledger: Ledger, code: str, given_code: object, name: object, roles: Iterable[object],
         participant_id: str, token: str, time: str) -> dict:
    """The journal record of a new participant, or Refused: a wrong code, joining closed, a bad or taken name."""
    check_code(code, given_code)
    if not ledger.joining_open:
        raise Refused(403, "The instructor has closed joining for now: ask them to open it again.")
    shown = text.display_name(name)
    key = text.name_key(shown)
    if key in ledger.by_name:
        raise Refused(409, f"The name {shown} is taken in this room: add an initial or choose another.")
    return {"kind": "join", "id": participant_id, "name": shown, "key": key, "roles": list(roles_of(roles)),
            "token": token_hash(token), "time": time}


def join_kit(ledger: Ledger, code: str, given_code: object, name: object, kit_id: str, token: str,
             time: str) -> dict:
    """The journal record of a participant's kit (their laptop, following the room), or Refused.

    A kit's display name is unique among kits only: the same person plays as "Ana" on their phone and
    follows as "Ana" on their laptop. It plays no role; it reads the room log and reports progress.
    """
    check_code(code, given_code)
    if not ledger.joining_open:
        raise Refused(403, "The instructor has closed joining for now: ask them to open it for a moment.")
    shown = text.display_name(name)
    key = text.name_key(shown)
    if key in ledger.kit_by_name:
        raise Refused(409, f"A kit named {shown} already follows this room: add an initial or choose another name.")
    return {"kind": "kit", "id": kit_id, "name": shown, "key": key, "token": token_hash(token), "time": time}


def change_roles(person: Participant, roles: Iterable[object], time: str) -> dict:
    """The journal record of a participant's new roles."""
    return {"kind": "roles", "id": person.id, "roles": list(roles_of(roles)), "time": time}


def _needs(person: Participant, role: str) -> None:
    if role not in person.roles:
        raise Refused(403, f"Only a {role} may do that: add the {role} role on your page first.")


def _valid(event: dict) -> dict:
    try:
        return events.validate(event)
    except EventError as error:  # the room's own checks come first: this is the schema's last word
        raise Refused(400, f"The room cannot send that: {error}.") from None


def _product(ledger: Ledger, product_id: object):
    product = ledger.products.get(product_id) if isinstance(product_id, str) else None
    if product is None or product.hidden:
        raise Refused(404, "That product is not in the shop: go back to the catalogue and choose another.")
    return product


def add_product(ledger: Ledger, person: Participant, form: dict, product_id: str, categories: list[str],
                time: str) -> dict:
    """A product/create event of ``person`` as merchant."""
    _needs(person, MERCHANT)
    fields = text.product_fields(form, categories)
    return _valid(events.product_create(person.id, person.name, product_id, time=time, **fields))


def check_photo(ledger: Ledger, person: Participant, product_id: object) -> None:
    """Refuse a photo unless ``person`` is the photographer the product is assigned to now; the server asks
    before it reads a byte of the upload, and again once the photo is ready (the assignment may have moved)."""
    _needs(person, PHOTOGRAPHER)
    product = _product(ledger, product_id)
    assigned = ledger.assignments.open.get(product.id)
    if product.image is not None or assigned is None or assigned.photographer != person.id:
        raise Refused(409, "That product is not assigned to you (any more): photograph the one on your page.")


def photo(ledger: Ledger, person: Participant, product_id: str, image: str, time: str) -> dict:
    """A product/image event: only the photographer the product is assigned to may add its photo."""
    check_photo(ledger, person, product_id)
    return _valid(events.product_image(person.id, person.name, product_id, image, time=time))


def purchase(ledger: Ledger, person: Participant, product_id: object, time: str) -> dict:
    """A product/purchase event of ``person`` as customer."""
    _needs(person, CUSTOMER)
    product = _product(ledger, product_id)
    return _valid(events.product_purchase(person.id, person.name, product.id, time=time))


def view_product(ledger: Ledger, person: Participant, product_id: object, time: str) -> dict:
    """A product/view event (the kit's extension, for the extra credit's hot products)."""
    product = _product(ledger, product_id)
    return _valid(events.product_view(person.id, person.name, product.id, time=time))


def view_category(person: Participant, category: str, time: str) -> dict:
    """A category/view event (the kit's extension)."""
    return _valid(events.category_view(person.id, person.name, category, time=time))


def remove(ledger: Ledger, participant_id: object, time: str) -> dict:
    """The instructor removes a participant: their session ends; their events stay in the log."""
    if not isinstance(participant_id, str) or participant_id not in ledger.participants:
        raise Refused(404, "There is no such participant: reload the instructor's page.")
    return {"kind": "remove", "id": participant_id, "time": time}


def hide(ledger: Ledger, product_id: object, hidden: bool, time: str) -> dict:
    """The instructor hides a product from the shop (or shows it again); its events stay in the log."""
    if not isinstance(product_id, str) or product_id not in ledger.products:
        raise Refused(404, "There is no such product: reload the instructor's page.")
    return {"kind": "hide", "product": product_id, "hidden": hidden, "time": time}


def joining(is_open: bool, time: str) -> dict:
    """The instructor closes or reopens joining."""
    return {"kind": "joining", "open": is_open, "time": time}


def withdrawals(ledger: Ledger, now: float, wait_s: float, time: str) -> list[dict]:
    """The journal records that close assignments which must not stay open at ``now``: asked ``wait_s``
    seconds ago or more without a photo, held by a photographer who left, or of a hidden product."""
    present = set(ledger.photographers())
    overdue = {stale.product for stale in ledger.assignments.overdue(now, wait_s)}
    records = []
    for product, opened in ledger.assignments.open.items():
        if product in overdue:
            reason = "no photo in time"
        elif opened.photographer not in present or ledger.products[product].hidden:
            reason = "the photographer left or the product is hidden"
        else:
            continue
        records.append({"kind": "withdraw", "product": product, "photographer": opened.photographer,
                        "reason": reason, "time": time})
    return records


def offer(ledger: Ledger, now: float, time: str) -> dict | None:
    """The journal record of the next assignment to make, or None. The caller applies it and asks again
    until None: each decision must see the one before it (a photographer holds one product at a time)."""
    photographers = ledger.photographers()
    for product in ledger.products.values():
        if product.image is None and not product.hidden and product.id not in ledger.assignments.open:
            chosen = ledger.assignments.choose(product.id, photographers, product.merchant)
            if chosen is not None:
                return {"kind": "assign", "product": product.id, "photographer": chosen, "at": now, "time": time}
    return None

