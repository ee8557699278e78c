"""The retail stream's events: schema ids, builders, validation, origins and record encoding.

Every fact on the Hello, Retail! stream is an envelope (``schema``, ``origin``, ``timeOrigin``,
``data``) around a data object whose own ``schema`` says what happened. The JSON Schema files in
``schemas/`` are the definition; ``validation`` only selects and runs them (with fastjsonschema, which
is pure Python and ships in the Lambda zip), so a rule lives in exactly one place. ``kinds`` names the
schemas and roles, ``origins`` who produced an event, ``builders`` makes events, ``encoding`` turns
them into records; every public name is re-exported here, so ``events.validate(event)`` reads as it says.

Where the schemas differ from the original's files, and why:

- ``origin`` is any non-empty string (at most 1,024 characters). The original's pattern wanted
  four ``/``-separated parts without ``@``, but its own example events use ``scripts/put-retail-stream-event``
  and e-mail addresses. Who an origin names is decided by ``parse_origin``, as in the original API.
- ``timeOrigin`` (and the egress times) must match an ISO-8601 date-time pattern with seconds and a
  zone, e.g. ``2017-02-21T23:27:56.673Z``. A pattern, not ``format: date-time``, so the check is the
  same in every validator and cheap on the consumer's hot path.
- product ids are 1-256 characters (the Kinesis partition-key limit) instead of digits only.
- ``product/view`` and ``category/view`` (vendor ``com.hello-winners``) are this kit's extensions
  for the extra credit; they do not exist in the original.

Example
-------
>>> event = product_purchase("amzn1.account.AH1", "Erik", "9000001", time="2017-02-21T23:27:56.673Z")
>>> kind(validate(event))
'purchase'
>>> decode(encode(event)) == event
True
"""


from __future__ import annotations

from hello_winners.events.builders import (
    category_view,
    envelope,
    format_time,
    parse_time,
    product_create,
    product_image,
    product_purchase,
    product_view,
)
from hello_winners.events.encoding import (
    decode,
    encode,
    partition_key,
)
from hello_winners.events.kinds import (
    CATEGORY_VIEW,
    ENVELOPE_EGRESS,
    ENVELOPE_INGRESS,
    KINDS,
    KIND_OF_ROLE,
    MERCHANT,
    PHOTOGRAPHER,
    PRODUCT_CREATE,
    PRODUCT_IMAGE,
    PRODUCT_PURCHASE,
    PRODUCT_VIEW,
    ROLES,
    ROLE_CUSTOMER,
    ROLE_MERCHANT,
    ROLE_OF_KIND,
    ROLE_PHOTOGRAPHER,
)
from hello_winners.events.origins import (
    origin,
    parse_origin,
)
from hello_winners.events.validation import (
    kind,
    schema_ids,
    validate,
)

__all__ = [
    "CATEGORY_VIEW",
    "ENVELOPE_EGRESS",
    "ENVELOPE_INGRESS",
    "KINDS",
    "KIND_OF_ROLE",
    "MERCHANT",
    "PHOTOGRAPHER",
    "ROLES",
    "ROLE_OF_KIND",
    "PRODUCT_CREATE",
    "PRODUCT_IMAGE",
    "PRODUCT_PURCHASE",
    "PRODUCT_VIEW",
    "ROLE_CUSTOMER",
    "ROLE_MERCHANT",
    "ROLE_PHOTOGRAPHER",
    "category_view",
    "decode",
    "encode",
    "envelope",
    "format_time",
    "kind",
    "origin",
    "parse_origin",
    "parse_time",
    "partition_key",
    "product_create",
    "product_image",
    "product_purchase",
    "product_view",
    "schema_ids",
    "validate",
]
