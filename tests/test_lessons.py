"""The lessons' set-up on real AWS (moto's in-process mock): what must hold where AWS is only eventually
consistent."""

from hello_winners.workshop import lessons


def test_a_sandbox_reset_reads_consistently_and_leaves_the_tables_empty(mocked_aws):
    here = lessons.reach(stage_name="alice")
    dynamodb = here.clients["dynamodb"]
    first = lessons.sandbox(here, "naive")
    dynamodb.put_item(TableName=first["TABLE_REJECTS_NAME"], Item={"eventId": {"S": "e1"}})
    scans = []
    dynamodb.meta.events.register("provide-client-params.dynamodb.Scan", lambda params, **_: scans.append(params))
    again = lessons.sandbox(here, "naive")
    assert again == first
    assert scans and all(scan["ConsistentRead"] for scan in scans)
    assert dynamodb.scan(TableName=first["TABLE_REJECTS_NAME"], ConsistentRead=True)["Count"] == 0
