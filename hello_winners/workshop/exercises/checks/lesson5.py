"""The checkers of lesson 5, delivery for real."""

from hello_winners.workshop import doubles
from hello_winners.workshop.exercises.checks import samples
from hello_winners.workshop.exercises.checks.cases import check


def purchase_once(function):
    """Check purchase_once(dynamodb, table_names, event, shard_id, sequence_number) against mock tables."""
    check("purchase_once", _purchase_once, function)


def _purchase_once(c, function):
    marker_hint = ("condition the product's update on its marker: ConditionExpression='attribute_not_exists(#marker) "
                   "OR #marker < :seq' with #marker = marker_attribute(shard_id) and :seq = seq_key(sequence_number)")
    with samples.mock_tables() as (db, names):
        samples.put_product(db, names, "p1", merchant=("m1", "Mia"), photographer=("f1", "Finn"))
        with c.on("a first purchase", "one transact_write_items: the product's update and the score updates; the "
                  "marker is text, {'S': seq_key(sequence_number)}, and sequence_number is text already, as Lambda sends it",
                  key="one-transact-write-items-products"):
            got = function(db, names, samples.purchase("p1"), samples.SHARD, "9")
            c.expect(got is True, f"it returned {got!r}, expected True", "return True when the purchase was counted",
                     key="return-true-when-purchase-was")
            c.expect(samples.product_of(db, names, "p1").get("purchases") == 1 and
                     samples.scores_of(db, names) == {("m1", "merchant"): 1, ("f1", "photographer"): 1},
                     f"purchases {samples.product_of(db, names, 'p1').get('purchases')}, scores {samples.scores_of(db, names)}",
                     "add 1 to the product's purchases and to its merchant's and photographer's scores",
                     key="add-1-products-purchases-merchants")
        with c.on("the same record delivered again (a duplicate)",
                  "catch dynamodb.exceptions.TransactionCanceledException; cancelled_by_condition(error) says it was a repeat",
                  key="catch-dynamodb-exceptions-transactioncanceledexception-cancelled"):
            got = function(db, names, samples.purchase("p1"), samples.SHARD, "9")
            c.expect(samples.product_of(db, names, "p1").get("purchases") == 1, "the duplicate was counted again", marker_hint,
                     key="marker-hint")
            c.expect(got is False, f"it returned {got!r} for a repeat", "return False when the condition failed",
                     key="return-false-when-condition-failed")
        with c.on("the next record, sequence number '10' after '9' (Lambda sends them as text)",
                  "compare seq_key(sequence_number), whose text order is numeric order",
                  key="compare-seq-key-sequence-number"):
            got = function(db, names, samples.purchase("p1"), samples.SHARD, "10")
            c.expect(got is True and samples.product_of(db, names, "p1").get("purchases") == 2,
                     "purchase 10 was taken for a repeat of 9",
                     "as text '10' < '9': store and compare seq_key(sequence_number), not the plain number",
                     key="text-10-9-store-compare")
        with c.on("an older record of a batch delivered again (sequence number 5)"):
            function(db, names, samples.purchase("p1"), samples.SHARD, "5")
            c.expect(samples.product_of(db, names, "p1").get("purchases") == 2, "an old record was counted again",
                     "a batch delivered again brings older records too: refuse every sequence number not above the "
                     "marker, 'attribute_not_exists(#marker) OR #marker < :seq', not only the one equal to it",
                     key="refuse-older-records-too")
            c.expect(samples.scores_of(db, names)[("m1", "merchant")] == 2, "a repeat moved a score",
                     "put the score updates in the same transaction as the product's conditional update",
                     key="put-score-updates-same-transaction")
        with c.on("a record of another shard (each shard numbers its records itself)"):
            function(db, names, samples.purchase("p1"), "shardId-000000000001", "3")
            c.expect(samples.product_of(db, names, "p1").get("purchases") == 3, "it was taken for a repeat",
                     "keep one marker per shard: name it marker_attribute(shard_id)", key="keep-one-marker-per-shard")
        with c.on("a purchase of a product nobody added or photographed yet",
                  "add score updates only for the roles the item has", key="add-score-updates-only-roles"):
            got = function(db, names, samples.purchase("p9"), samples.SHARD, "11")
            c.expect(got is True and samples.product_of(db, names, "p9").get("purchases") == 1,
                     "it was not counted on the product", "count it on the product even without contributors",
                     key="count-product-even-without-contributors")
    return "duplicates and older records skipped, one marker per shard"


def handle_batch_once(function):
    """Check handle_batch_once(event, dynamodb, table_names): duplicates, a redelivery, a failed write."""
    check("handle_batch_once", _handle_batch_once, function)


def _handle_batch_once(c, function):
    batch, expected = samples.day_batch()
    doubled = {"Records": batch["Records"][:3] + batch["Records"]}  # a record repeated within the batch
    with samples.mock_tables() as (db, names):
        with c.on("a batch with repeated records", "use purchase_once for purchases, with the record's shard "
                  "(record['eventID'] up to its last ':') and sequence number (record['kinesis']['sequenceNumber'])",
                  key="use-purchase-once-purchases-records"):
            got = function(doubled, db, names)
            c.expect(got == {"batchItemFailures": []}, f"it returned {got!r}", "return {'batchItemFailures': []} when all went well",
                     key="return-batchitemfailures-when-all-went")
            c.expect(samples.scores_of(db, names) == expected, f"the scores are {samples.scores_of(db, names)}, expected {expected}",
                     "count purchases with purchase_once(dynamodb, table_names, event, shard_id, record['kinesis']['sequenceNumber'])",
                     key="count-purchases-purchase-once-dynamodb")
        with c.on("the whole batch delivered again"):
            function(batch, db, names)
            c.expect(samples.scores_of(db, names) == expected,
                     f"after a redelivery the scores are {samples.scores_of(db, names)}, expected {expected}",
                     "every purchase must go through purchase_once, so a redelivered record changes nothing",
                     key="every-purchase-must-go-through")
    with samples.mock_tables() as (db, names):
        failing = doubles.FailingOnce(db, "transact_write_items", nth=1)
        with c.on("a batch whose first purchase is throttled",
                  "catch botocore's ClientError around the writes of a record and return that record's sequence number",
                  key="catch-botocores-clienterror-around-writes"):
            got = function(batch, failing, names)
            third = batch["Records"][2]["kinesis"]["sequenceNumber"]
            c.expect(got == {"batchItemFailures": [{"itemIdentifier": third}]},
                     f"it returned {got!r}, expected the third record ({third}) reported",
                     "on a ClientError return {'batchItemFailures': [{'itemIdentifier': record['kinesis']['sequenceNumber']}]}"
                     " at once: Lambda then delivers the batch again from that record",
                     key="clienterror-return-batchitemfailures-itemidentifier-record")
        with c.on("the retry from the failed record"):
            rest = {"Records": [r for r in batch["Records"] if int(r["kinesis"]["sequenceNumber"]) >= int(third)]}
            function(rest, db, names)
            c.expect(samples.scores_of(db, names) == expected,
                     f"after the retry the scores are {samples.scores_of(db, names)}, expected {expected}",
                     "stop at the first failed record: the records after it come again with the retry",
                     key="stop-at-first-failed-record")
    return "repeats counted once, a failed write reported and retried"
