"""The checkers of lesson 3, deploy to Lambda."""

import io
import json
import zipfile


from hello_winners import naming
from hello_winners.deploy import bundle, models, policies
from hello_winners.deploy.names import Names
from hello_winners.workshop.exercises.checks import samples
from hello_winners.workshop.exercises.checks.cases import Wrong, check


def _names(prefix="hw-check-"):
    return Names(prefix, samples.REGION, samples.ACCOUNT)


def build_zip(function):
    """Check build_zip() -> the zip's bytes, complete and reproducible."""
    check("build_zip", _build_zip, function)


def _build_zip(c, function):
    with c.on("building the zip", "return bundle.build()", key="return-bundle-build"):
        code = function()
        c.expect(isinstance(code, bytes), f"it returned {type(code).__name__}, not the zip's bytes",
                 "return the bytes: create_function sends them as Code={'ZipFile': code}",
                 key="return-bytes-create-function-sends")
        try:
            files = set(zipfile.ZipFile(io.BytesIO(code)).namelist())
        except zipfile.BadZipFile:
            raise Wrong("the bytes are not a zip", "deploy.bundle.build() returns the zip's bytes",
                        key="deploy-bundle-build-returns-zips") from None
    with c.on("what the zip holds"):
        for needed, why in (("hello_winners/view/consumer.py", "the handler module"),
                            ("hello_winners/events/schemas/product-purchase-1-0-0.json", "the event schemas events reads"),
                            ("fastjsonschema/__init__.py", "fastjsonschema, which the Lambda runtime does not have")):
            c.expect(needed in files, f"it lacks {needed} ({why})",
                     "let deploy.bundle.build() find what the handler needs: modules, data files and pure-Python packages",
                     key="let-deploy-bundle-build-find")
    with c.on("building it twice"):
        c.expect(function() == code, "two builds gave different bytes",
                 "a reproducible zip (deploy.bundle.build) lets a redeploy see that nothing changed",
                 key="reproducible-zip-deploy-bundle-build")
    return "complete and reproducible"


def _grants(document):
    """{(action, resource)} a policy document allows; raises Wrong for what the checker cannot accept."""
    pairs = set()
    for statement in document.get("Statement", []) if isinstance(document, dict) else []:
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            raise Wrong("a statement uses NotAction or NotResource",
                        "name the actions and resources it allows instead: that is what least privilege reads like",
                        key="name-actions-resources-allows-instead")
        actions, resources = statement.get("Action", []), statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        pairs.update((a, r) for a in actions for r in resources)
    return pairs


def consumer_policy(function):
    """Check consumer_policy(names) -> the least-privilege policy document of the consumer."""
    check("consumer_policy", _consumer_policy, function)


def _consumer_policy(c, function):
    for prefix in ("hw-check-", "hw-other-"):
        names = _names(prefix)
        with c.on(f"the stage with prefix {prefix}", "return a dict: {'Version': '2012-10-17', 'Statement': [...]}",
                  key="return-dict-version-2012-10"):
            document = function(names)
            c.expect(isinstance(document, dict) and document.get("Version") == "2012-10-17",
                     "it is not a policy document with Version 2012-10-17",
                     "return {'Version': '2012-10-17', 'Statement': [...]} (a dict, not JSON text)",
                     key="return-version-2012-10-17")
            granted, needed = _grants(document), _grants(policies.consumer(names))
            accepted = {(action.lower(), form) for action, resource in needed for form in _same_effect(action, resource)}
            wild = sorted({a for a, r in granted if "*" in a} | {r for a, r in granted if r == "*" or r.endswith(":*:*")})
            c.expect(not wild, f"it grants wildcards: {', '.join(wild)}",
                     "name each action and the exact ARN (names.stream_arn, names.table_arn(tables.SCORES), ...)",
                     key="name-each-action-exact-arn")
            allowed = {(action.lower(), resource) for action, resource in granted}
            for action, resource in sorted(needed):
                if not allowed & {(action.lower(), form) for form in _same_effect(action, resource)}:
                    raise Wrong(f"the consumer could not {action} on {resource}", _why_needed(action), key="why-needed")
            for action, resource in sorted(p for p in granted if (p[0].lower(), p[1]) not in accepted)[:1]:
                raise Wrong(f"it also grants {action} on {resource}, which the consumer never uses",
                            "grant only what the consumer calls: read the stream, BatchGetItem/GetItem/UpdateItem "
                            "on Contributions and Scores, BatchWriteItem on Rejects, SendMessage to its queue, "
                            "and its own logs", key="grant-only-what-consumer-calls")
    return "exact ARNs, no wildcards, nothing missing or extra"


def _same_effect(action, resource):
    """The ARN forms that grant the same call: AWS writes a log group's ARN both bare and with ":*"."""
    if action.startswith("logs:") and not resource.endswith(":*"):
        return (resource, f"{resource}:*")
    return (resource,)


def _why_needed(action):
    service = action.split(":")[0]
    return {"kinesis": "Lambda's event source mapping reads the stream with the function's role: it needs "
                       "DescribeStream, DescribeStreamSummary, GetRecords, GetShardIterator and ListShards on names.stream_arn",
            "dynamodb": "the consumer reads products with BatchGetItem/GetItem and writes with UpdateItem "
                        "(Contributions, Scores), and writes rejects with BatchWriteItem (Rejects): "
                        "names.table_arn(tables.CONTRIBUTIONS) and so on",
            "sqs": "Lambda records a batch it gives up on in the stage's queue, sending it with the function's role: "
                   "sqs:SendMessage on names.queue_arn",
            "logs": "Lambda writes the function's log with logs:CreateLogGroup on names.log_group_arn('consumer') "
                    "(or that ARN + ':*', AWS's other spelling of it) and CreateLogStream/PutLogEvents on that ARN + ':*'"}.get(service, "the consumer needs it")


def create_role(function):
    """Check create_role(iam, names, policy, tags) -> role ARN, against moto's IAM."""
    check("create_role", _create_role, function)


_IAM_TAGS = "Tags=[{'Key': k, 'Value': v} for k, v in tags.items()]"
_IAM_TAGS_WHY = "IAM takes tags as a list of Key/Value pairs, where Lambda's create_function takes the dict as it is"


def _create_role(c, function):
    names, tags = _names(), naming.tags("check")
    policy = policies.consumer(names)
    with samples.mocked() as session:
        iam = session.client("iam")
        with c.on("creating the role", "iam.create_role(RoleName=names.role('consumer'), "
                  "AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST), PermissionsBoundary=names.boundary_arn, "
                  + _IAM_TAGS + "): " + _IAM_TAGS_WHY,
                  key="iam-create-role-rolename-names"):
            arn = function(iam, names, policy, tags)
            role = iam.get_role(RoleName=names.role("consumer"))["Role"]
            c.expect(arn == role["Arn"], f"it returned {arn!r}, not the role's ARN", "return iam.create_role(...)['Role']['Arn']",
                     key="return-iam-create-role-role")
            bound = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
            c.expect(bound == names.boundary_arn, f"its permissions boundary is {bound}",
                     "pass PermissionsBoundary=names.boundary_arn: a room's account lets you create a role only with "
                     "it, so that no role does more than the workshop needs, whatever its policy says",
                     key="pass-permissionsboundary-names-boundary-arn")
            trust = role["AssumeRolePolicyDocument"]
            trust = json.loads(trust) if isinstance(trust, str) else trust
            c.expect("lambda.amazonaws.com" in json.dumps(trust), "Lambda may not assume the role",
                     "use models.LAMBDA_TRUST as the AssumeRolePolicyDocument (json.dumps it)",
                     key="use-models-lambda-trust-assumerolepolicydocument")
            found = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=names.role("consumer"))["Tags"]}
            c.expect(tags.items() <= found.items(), f"the role's tags are {found}",
                     "pass " + _IAM_TAGS + ": teardown finds the kit's roles by them; " + _IAM_TAGS_WHY,
                     key="pass-tags-key-k-value")
            inline = iam.list_role_policies(RoleName=names.role("consumer"))["PolicyNames"]
            c.expect(inline == ["consumer-access"], f"its inline policies are {inline}",
                     "put the policy with iam.put_role_policy(..., PolicyName='consumer-access', PolicyDocument=json.dumps(policy))",
                     key="put-policy-iam-put-role")
        with c.on("running it again with a changed policy",
                  "catch iam.exceptions.EntityAlreadyExistsException and reuse the role",
                  key="catch-iam-exceptions-entityalreadyexistsexception-reuse"):
            changed = {**policy, "Statement": policy["Statement"][:-1]}
            again = function(iam, names, changed, tags)
            c.expect(again == arn, f"the second run returned {again!r}", "return the existing role's ARN (iam.get_role)",
                     key="return-existing-roles-arn-iam")
            stored = iam.get_role_policy(RoleName=names.role("consumer"), PolicyName="consumer-access")["PolicyDocument"]
            stored = json.loads(stored) if isinstance(stored, str) else stored
            c.expect(stored == changed, "the policy was not updated", "call put_role_policy also when the role exists",
                     key="call-put-role-policy-also")
    return "trusted by Lambda, tagged, policy attached, safe to run again"


def create_function(function):
    """Check create_function(lam, names, role_arn, code, tags) -> function ARN, against moto's Lambda."""
    check("create_function", _create_function, function)


def _create_function(c, function):
    names, tags = _names(), naming.tags("check")
    with samples.mocked() as session:
        iam, lam = session.client("iam"), session.client("lambda")
        role_arn = iam.create_role(RoleName=names.role("consumer"),
                                   AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST))["Role"]["Arn"]
        code = samples.tiny_zip("# first")
        samples.role_not_ready_once(lam, "CreateFunction")
        with c.on("creating the function with a role Lambda cannot use yet (as right after creating it)",
                  "lam.create_function(FunctionName=names.function('consumer'), ...) inside "
                  "deploy.until_role_ready(lambda: ...): it retries while the new role propagates",
                  key="lam-create-function-functionname-names"):
            arn = function(lam, names, role_arn, code, tags)
            config = lam.get_function_configuration(FunctionName=names.function("consumer"))
            c.expect(arn == config["FunctionArn"], f"it returned {arn!r}, not the function's ARN",
                     "return lam.get_function_configuration(FunctionName=...)['FunctionArn']",
                     key="return-lam-get-function-configuration")
            defaults = models.Options()
            wanted = {"Runtime": models.RUNTIME, "Handler": models.CONSUMER_HANDLER, "Role": role_arn,
                      "MemorySize": defaults.consumer_memory_mb, "Timeout": defaults.consumer_timeout_s}
            for key, value in wanted.items():
                c.expect(config.get(key) == value, f"its {key} is {config.get(key)!r}, expected {value!r}",
                         f"set Runtime={models.RUNTIME!r}, Handler={models.CONSUMER_HANDLER!r}, Role=role_arn, "
                         f"MemorySize={defaults.consumer_memory_mb}, Timeout={defaults.consumer_timeout_s} "
                         "(what deploy() would set, so it has nothing to change)", key="set-runtime-handler-role-role")
            variables = config.get("Environment", {}).get("Variables", {})
            c.expect(variables == names.tables, f"its environment is {variables}",
                     "Environment={'Variables': names.tables}: the consumer finds its tables there",
                     key="environment-variables-names-tables-consumer")
            found = lam.list_tags(Resource=arn)["Tags"]
            c.expect(tags.items() <= found.items(), f"its tags are {found}", "pass Tags=tags: teardown finds it by them",
                     key="pass-tags-tags-teardown-finds")
        with c.on("running it again with new code",
                  "catch lam.exceptions.ResourceConflictException and call lam.update_function_code",
                  key="catch-lam-exceptions-resourceconflictexception-call"):
            new = samples.tiny_zip("# second")
            function(lam, names, role_arn, new, tags)
            sha = lam.get_function_configuration(FunctionName=names.function("consumer"))["CodeSha256"]
            c.expect(sha == bundle.code_sha256(new), "the function still runs the old code",
                     "when it exists, update its code: lam.update_function_code(FunctionName=..., ZipFile=code)",
                     key="when-exists-update-code-lam")
    return "configured as deploy() would, safe to run again"


def connect_stream(function):
    """Check connect_stream(lam, names) -> mapping UUID, against moto's Lambda and Kinesis."""
    check("connect_stream", _connect_stream, function)


def _connect_stream(c, function):
    names = _names()
    with samples.mocked() as session:
        iam, lam, kinesis = session.client("iam"), session.client("lambda"), session.client("kinesis")
        kinesis.create_stream(StreamName=names.stream, ShardCount=1)
        role_arn = iam.create_role(RoleName=names.role("consumer"),
                                   AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST))["Role"]["Arn"]
        lam.create_function(FunctionName=names.function("consumer"), Runtime=models.RUNTIME, Role=role_arn,
                            Handler=models.CONSUMER_HANDLER, Code={"ZipFile": samples.tiny_zip("#")})
        samples.role_not_ready_once(lam, "CreateEventSourceMapping")
        with c.on("connecting the stream while the new role is not usable yet",
                  "lam.create_event_source_mapping(FunctionName=names.function('consumer'), "
                  "EventSourceArn=names.stream_arn, StartingPosition='TRIM_HORIZON', ...) inside "
                  "deploy.until_role_ready(lambda: ...): Lambda reads the stream with the new role",
                  key="lam-create-event-source-mapping"):
            uuid = function(lam, names)
            mappings = lam.list_event_source_mappings(FunctionName=names.function("consumer"))["EventSourceMappings"]
            c.expect(len(mappings) == 1 and mappings[0]["UUID"] == uuid, f"it returned {uuid!r}; mappings: {len(mappings)}",
                     "return the mapping's UUID", key="return-mappings-uuid")
            mapping = mappings[0]
            c.expect(mapping.get("EventSourceArn") == names.stream_arn, "it maps another stream", "EventSourceArn=names.stream_arn",
                     key="eventsourcearn-names-stream-arn")
            c.expect(mapping.get("StartingPosition") == "TRIM_HORIZON",
                     f"it starts at {mapping.get('StartingPosition')}",
                     "StartingPosition='TRIM_HORIZON': from LATEST the consumer would miss the day already on the stream",
                     key="startingposition-trim-horizon-from-latest")
            c.expect("ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []),
                     "the consumer's partial-failure reports would be ignored",
                     "FunctionResponseTypes=['ReportBatchItemFailures']: a failed record is retried, not the whole batch",
                     key="functionresponsetypes-reportbatchitemfailures-failed-record-retried")
            c.expect(mapping.get("BisectBatchOnFunctionError") is True and 0 <= mapping.get("MaximumRetryAttempts", -1) <= 10000,
                     "a failing batch would be retried whole, forever",
                     "BisectBatchOnFunctionError=True, MaximumRetryAttempts=10",
                     key="bisectbatchonfunctionerror-true-maximumretryattempts-10")
            destination = (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
            c.expect(destination == names.queue_arn,
                     "a batch that fails its 10 retries would be dropped without a trace" if not destination else
                     f"a batch given up on would be recorded in {destination}",
                     "DestinationConfig={'OnFailure': {'Destination': names.queue_arn}}: Lambda records the batch "
                     "it gives up on (shard and sequence numbers) in your queue",
                     key="destinationconfig-onfailure-destination-names-queue")
            defaults = models.Options()
            c.expect(mapping.get("BatchSize") == defaults.batch_size
                     and mapping.get("MaximumBatchingWindowInSeconds") == defaults.batching_window_s,
                     f"BatchSize {mapping.get('BatchSize')}, window {mapping.get('MaximumBatchingWindowInSeconds')} s",
                     f"BatchSize={defaults.batch_size}, MaximumBatchingWindowInSeconds={defaults.batching_window_s} "
                     "(what deploy() would set)", key="batchsize-maximumbatchingwindowinseconds-what-deploy-would")
        with c.on("running it again", "look for it first: lam.list_event_source_mappings(FunctionName=..., EventSourceArn=...)",
                  key="look-first-lam-list-event"):
            again = function(lam, names)
            count = len(lam.list_event_source_mappings(FunctionName=names.function("consumer"))["EventSourceMappings"])
            c.expect(count == 1, f"there are now {count} mappings: every record would be processed {count} times",
                     "reuse the mapping that exists (list_event_source_mappings) instead of creating another",
                     key="reuse-mapping-exists-list-event")
            c.expect(again == uuid, f"the second run returned {again!r}", "return the existing mapping's UUID",
                     key="return-existing-mappings-uuid")
    return "from TRIM_HORIZON, partial failures reported, safe to run again"
