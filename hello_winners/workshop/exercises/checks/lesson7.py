"""The checkers of lesson 7, clean up."""

import json


from hello_winners import naming
from hello_winners.deploy import models, tagging
from hello_winners.workshop.exercises.checks import samples
from hello_winners.workshop.exercises.checks.cases import check


# ListTables gives up to 100 names a page on AWS; the sandbox gives 3, so that a few tables fill pages as a busy
# account's hundred would, and alice's table, sorted after the fillers, is on the third page.
_PAGE = 3
_FILLERS = 2 * _PAGE


def _small_pages(params, **_):
    params["Limit"] = min(int(params.get("Limit", _PAGE)), _PAGE)


def _leftover_stage(session):
    """Stage alice with three leftovers (its table on ListTables' third page), beside look-alikes that are not its."""
    clients = {name: session.client(name) for name in ("kinesis", "dynamodb", "lambda", "iam")}
    dynamodb, mine, theirs = clients["dynamodb"], naming.tags("alice"), naming.tags("alice-2")
    dynamodb.meta.events.register("provide-client-params.dynamodb.ListTables", _small_pages)

    def table(name, tags=None):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **({"Tags": tagging.as_pairs(tags)} if tags else {}),
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])

    for number in range(_FILLERS):
        table(f"aa-filler-{number:03d}")
    table("hw-alice-Scores", mine)
    table("hw-alice-notes")
    role = clients["iam"].create_role(RoleName="hw-alice-consumer", AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                                      Tags=tagging.as_pairs(mine))["Role"]["Arn"]
    clients["lambda"].create_function(FunctionName="hw-alice-consumer", Runtime=models.RUNTIME, Role=role,
                                      Handler=models.CONSUMER_HANDLER, Code={"ZipFile": samples.tiny_zip("#")}, Tags=mine)
    clients["kinesis"].create_stream(StreamName="hw-alice-2-stream", ShardCount=1)
    clients["kinesis"].add_tags_to_stream(StreamName="hw-alice-2-stream", Tags=theirs)
    return clients


_LEFTOVERS = [("function", "hw-alice-consumer"), ("role", "hw-alice-consumer"), ("table", "hw-alice-Scores")]
_NOT_ALICES = {("table", "hw-alice-notes"): ("it lacks the kit's tags: somebody else's, never yours to delete",
                                             "confirm by tags: naming.tags(stage).items() <= tags_of(clients, kind, name).items()"),
               ("stream", "hw-alice-2-stream"): ("it is stage alice-2's, whose names share your prefix hw-alice-",
                                                 "compare both tags of naming.tags(stage), the stage's too, not only the kit's")}


def stage_leftovers(function):
    """Check stage_leftovers(clients, prefix, stage) -> sorted (kind, name), on a stage with leftovers."""
    check("stage_leftovers", _stage_leftovers, function)


def _stage_leftovers(c, function):
    with samples.mocked() as session:
        clients = _leftover_stage(session)
        with c.on("stage alice with a table, a function and a role left, and look-alikes",
                  "for each kind of LISTINGS, read every page with clients[service].get_paginator(operation).paginate()",
                  key="each-kind-listings-read-every"):
            with samples.calls(clients["dynamodb"]) as made:
                got = function(clients, "hw-alice-", "alice")
            others = [params.get("TableName") or params.get("ResourceArn") for name, params in made
                      if name in ("DescribeTable", "ListTagsOfResource")
                      and "hw-alice-" not in (params.get("TableName") or params.get("ResourceArn", ""))]
            c.expect(not others, f"it asked for the tags of {others[0] if others else ''}, which is not named like your stage",
                     "filter by name first (name.startswith(prefix)), then ask for tags: on AWS you may not even read "
                     "the tags of others' resources, and each ask is a call", key="filter-by-name-first-name")
            c.expect(isinstance(got, list), f"it returned a {type(got).__name__}, not a list", "return sorted(left)",
                     key="return-sorted-left")
            found = [tuple(item) for item in got]
            for item in _LEFTOVERS:
                c.expect(item in found, f"it missed {item[0]} {item[1]}" + (f" (on the third page of ListTables, which "
                         f"gives {_PAGE} names a page in this check, up to 100 on AWS)" if item[0] == "table" else ""),
                         "read every page: get_paginator(operation).paginate()", key="read-every-page-get-paginator")
            for item, (what, hint) in _NOT_ALICES.items():  # the untagged one first: then no tag was compared
                c.expect(item not in found, f"it listed {item[0]} {item[1]}: {what}", hint,
                         key="listed-not-stage-resource")
            c.expect(set(found) <= set(_LEFTOVERS), f"it listed {sorted(set(found) - set(_LEFTOVERS))}, not stage alice's",
                     "keep only what is named with the prefix and tagged naming.tags(stage)",
                     key="keep-only-what-named-prefix")
            c.expect(found == _LEFTOVERS, f"it returned {found}", "return them sorted: sorted(left)",
                     key="return-them-sorted-sorted-left")
        delete = {"table": lambda name: clients["dynamodb"].delete_table(TableName=name),
                  "function": lambda name: clients["lambda"].delete_function(FunctionName=name),
                  "role": lambda name: clients["iam"].delete_role(RoleName=name)}
        for kind, name in _LEFTOVERS:
            delete[kind](name)
        with c.on("the same stage after its teardown"):
            got = function(clients, "hw-alice-", "alice")
            c.expect(not got or not {tuple(item) for item in got} <= set(_LEFTOVERS),
                     f"it returned {got!r}, which the teardown deleted",
                     "start each call with an empty list: a default argument (left=[]), a module's list or a cache "
                     "is made once, and keeps what earlier calls found", key="start-each-call-with-an-empty-list")
            c.expect(list(got) == [], f"it returned {got!r}", "nothing of the stage is left: return []",
                     key="nothing-stage-left-return")
    return "every page read, look-alikes left out, nothing left after teardown"
