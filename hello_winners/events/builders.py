"""Events as producers write them: an ingress envelope around each kind's data."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from hello_winners.errors import EventError
from hello_winners.events.kinds import (
    CATEGORY_VIEW,
    ENVELOPE_INGRESS,
    PRODUCT_CREATE,
    PRODUCT_IMAGE,
    PRODUCT_PURCHASE,
    PRODUCT_VIEW,
    ROLE_CUSTOMER,
    ROLE_MERCHANT,
    ROLE_PHOTOGRAPHER,
)
from hello_winners.events.origins import origin

_ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})"
                       r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:\d{2})?)?")


def format_time(time: datetime | str | None = None) -> str:
    """ISO-8601 UTC with milliseconds as the original writes it; None means now, a str passes as is."""
    if time is None:
        time = datetime.now(timezone.utc)
    elif isinstance(time, str):
        return time
    elif not isinstance(time, datetime):
        raise EventError(f"time must be a datetime or an ISO-8601 string, not {type(time).__name__}; "
                         "pass datetime.now(timezone.utc) or leave it out.")
    if time.tzinfo is not None:
        time = time.astimezone(timezone.utc).replace(tzinfo=None)
    return time.isoformat(timespec="milliseconds") + "Z"  # the milliseconds cut, never rounded up


def parse_time(text: str) -> datetime:
    """The moment an ISO-8601 time names, UTC when it names no zone, read alike on every supported Python
    (3.10's fromisoformat refuses "Z" and fractions of other than 3 or 6 digits; the schema allows 1 to 9)."""
    parts = _ISO_TIME.fullmatch(text) if isinstance(text, str) else None
    try:
        if parts is None:
            raise ValueError(text)
        year, month, day, hour, minute, second, fraction, zone = parts.groups()
        if zone in (None, "Z", "z"):
            zone = timezone.utc
        else:
            sign = -1 if zone[0] == "-" else 1
            zone = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:])))
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                        int((fraction or "0")[:6].ljust(6, "0")), tzinfo=zone)
    except ValueError:
        raise EventError(f"{text!r} is not an ISO-8601 time; write it as 2017-06-13T16:00:00Z.") from None


def envelope(origin: str, data: dict, time: datetime | str | None = None) -> dict:
    """An ingress envelope around ``data`` (which must carry its own ``schema``)."""
    return {"schema": ENVELOPE_INGRESS, "origin": origin, "timeOrigin": format_time(time), "data": data}


def product_create(merchant_id: str, merchant_name: str, product_id: str, *, brand: str, name: str,
                   description: str, category: str, price: str | None = None,
                   time: datetime | str | None = None) -> dict:
    """A merchant adds a product to the catalog."""
    data = {"schema": PRODUCT_CREATE, "id": product_id, "brand": brand, "name": name,
            "description": description, "category": category}
    if price is not None:
        data["price"] = price
    return envelope(origin(ROLE_MERCHANT, merchant_id, merchant_name), data, time)


def product_image(photographer_id: str, photographer_name: str, product_id: str, image: str, *,
                  time: datetime | str | None = None) -> dict:
    """A photographer adds the photo of a product."""
    return envelope(origin(ROLE_PHOTOGRAPHER, photographer_id, photographer_name),
                    {"schema": PRODUCT_IMAGE, "id": product_id, "image": image}, time)


def product_purchase(customer_id: str, customer_name: str, product_id: str, *,
                     time: datetime | str | None = None) -> dict:
    """A customer buys a product: one point for its merchant and one for its photographer."""
    return envelope(origin(ROLE_CUSTOMER, customer_id, customer_name),
                    {"schema": PRODUCT_PURCHASE, "id": product_id}, time)


def product_view(customer_id: str, customer_name: str, product_id: str, *,
                 time: datetime | str | None = None) -> dict:
    """A customer views a product page (kit extension)."""
    return envelope(origin(ROLE_CUSTOMER, customer_id, customer_name),
                    {"schema": PRODUCT_VIEW, "id": product_id}, time)


def category_view(customer_id: str, customer_name: str, category: str, *,
                  time: datetime | str | None = None) -> dict:
    """A customer views a category page (kit extension)."""
    return envelope(origin(ROLE_CUSTOMER, customer_id, customer_name),
                    {"schema": CATEGORY_VIEW, "category": category}, time)
