"""One checker per exercise: it runs the participant's function on cases and prints the verdict.

Each checker is called with the participant's function, e.g. ``checks.decode_record(decode_record)``,
and prints one of: that it passed; that it is not done yet (the body still raises NotDoneYet); or on
which case it went wrong, what it did, and a hint. It never raises. Cases include the tricky ones
(a duplicate delivery, a purchase before the photo, a bad record). Checkers that need AWS run against
moto's in-process mock, never the participant's stage: checking costs nothing on real AWS either.

One module per lesson (``lesson1`` … ``lesson7``); ``cases`` holds the machinery they share and
``samples`` the events, records and moto sandboxes they run functions on.
"""

from hello_winners.workshop.exercises.checks.lesson1 import put_event, read_back
from hello_winners.workshop.exercises.checks.lesson2 import (
    decode_record,
    handle_batch,
    record_contribution,
    tally_purchase,
    validate_event,
)
from hello_winners.workshop.exercises.checks.lesson3 import (
    build_zip,
    connect_stream,
    consumer_policy,
    create_function,
    create_role,
)
from hello_winners.workshop.exercises.checks.lesson4 import leaderboard_chart, scores_frame, top_of_role
from hello_winners.workshop.exercises.checks.lesson5 import handle_batch_once, purchase_once
from hello_winners.workshop.exercises.checks.lesson6 import contributor_sales, race_chart, sales_per_category
from hello_winners.workshop.exercises.checks.lesson7 import stage_leftovers

__all__ = ["put_event", "read_back", "build_zip", "connect_stream", "consumer_policy", "create_function", "create_role",
           "decode_record", "contributor_sales", "handle_batch", "handle_batch_once", "leaderboard_chart",
           "purchase_once", "race_chart", "record_contribution", "sales_per_category", "scores_frame",
           "stage_leftovers", "tally_purchase", "top_of_role", "validate_event"]
