"""A room's AWS account: the room policy, the permissions boundary, the group, and a user per participant.

Planned, then applied, as a stage is: :func:`plan` only reads IAM and returns the calls that bring the
account to the room (deploy.planner's calls, which deploy.executor runs), so ``hello-winners
room-account`` can print them first. Every participant is an IAM user under the path ``/hello-winners/``,
named and tagged with their stage (``hello-winners:stage``), in the group ``hello-winners``, which holds
the room policy (deploy.policies.room): each one's own tag scopes what they may touch to
``hw-<stage>-*``. The boundary policy is what every role a participant creates must carry.

Namespaces must not overlap: ``alice`` may touch everything named ``hw-alice-*``, which would hold stage
``alice-2``'s resources too, so a room never has both (:func:`participants` refuses such a list, and
:func:`plan` a name beside an existing participant's).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from hello_winners import naming
from hello_winners.deploy import policies
from hello_winners.deploy.names import Names
from hello_winners.deploy.planner import Call
from hello_winners.errors import ConfigError
from hello_winners.targets import pages

GROUP = "hello-winners"
USER_PATH = "/hello-winners/"
# IAM keeps at most five versions of a managed policy: an update first deletes the oldest that is not in use.
_MAX_VERSIONS = 5


@dataclasses.dataclass(frozen=True)
class Room:
    """What an account holds for a room: its policies, in one region, and its participants."""

    region: str
    account: str
    partition: str
    participants: tuple[str, ...] = ()

    @property
    def boundary_arn(self) -> str:
        return Names("", self.region, self.account, self.partition).boundary_arn

    @property
    def room_policy_arn(self) -> str:
        return Names("", self.region, self.account, self.partition).arn("iam", f"policy/{policies.ROOM_POLICY}",
                                                                        region=False)

    def managed_policies(self) -> list[tuple[str, str, dict]]:
        """(name, ARN, document) of the room's managed policies: the boundary first (the room policy names it)."""
        return [(policies.BOUNDARY_POLICY, self.boundary_arn,
                 policies.boundary(self.account, self.partition)),
                (policies.ROOM_POLICY, self.room_policy_arn,
                 policies.room(self.region, self.account, self.partition))]


def participants(names: Iterable[str]) -> tuple[str, ...]:
    """The participants' stages, each checked as a stage name; ConfigError for a list a room cannot hold.

    Two names whose namespaces overlap (one is the other followed by a hyphen and more, such as ``alice``
    and ``alice-2``, or ``alice-play``, alice's own play stage) are refused: each could touch the other's.
    """
    found = []
    for name in names:
        name = name.strip()
        if not name or name.startswith("#"):
            continue
        stage = naming.stage_name(name)
        if stage in found:
            raise ConfigError(f"the participant {stage!r} is listed twice: list each participant once")
        found.append(stage)
    if not found:
        raise ConfigError("no participant was named: give their stage names, such as alice bob, or --file with one a line")
    _refuse_overlaps(found, found)
    return tuple(found)


def plan(iam: Any, room: Room) -> list[Call]:
    """The calls that bring the account to ``room``: the managed policies, the group, the participants.

    Reads only. What exists and matches is left alone; a policy whose document differs gets a new default
    version; a participant who exists gets their tag and group back when they lost them.
    """
    existing = existing_participants(iam)
    _refuse_overlaps(room.participants, existing)
    calls = [step for name, arn, document in room.managed_policies() for step in _policy(iam, name, arn, document)]
    calls += _group(iam, room)
    for participant in room.participants:
        calls += _participant(iam, participant, participant in existing)
    return calls


def existing_participants(iam: Any) -> list[str]:
    """The room's participants already in the account: the users under USER_PATH."""
    return [user["UserName"] for user in pages.items(iam, "list_users", "Users", PathPrefix=USER_PATH)]


def participant_of(stage: str, existing: Iterable[str]) -> str:
    """The participant whose namespace holds ``stage``: one of ``existing`` (``alice`` for ``alice-play``),
    else ``stage`` itself (without its play suffix: ``bob-play`` is bob's)."""
    holders = [name for name in existing if stage == name or stage.startswith(name + "-")]
    if holders:
        return max(holders, key=len)
    return stage.removesuffix("-play") or stage


def _refuse_overlaps(wanted, others):
    for one in wanted:
        for another in others:
            name, other = sorted((one, another), key=len)
            if other != name and other.startswith(name + "-"):
                raise ConfigError(f"the participants {name!r} and {other!r} cannot share a room: {name!r} may touch "
                                  f"everything named hw-{name}-*, which holds {other!r}'s stage; rename one of them")


def _policy(iam, name, arn, document):
    text = json.dumps(document, separators=(",", ":"))
    try:
        found = iam.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        return [Call("iam", "create_policy", {"PolicyName": name, "PolicyDocument": text,
                                              "Description": _DESCRIPTIONS[name]},
                     f"create the managed policy {name} ({policies.size(document):,} characters)")]
    current = iam.get_policy_version(PolicyArn=arn, VersionId=found["DefaultVersionId"])["PolicyVersion"]["Document"]
    if (json.loads(current) if isinstance(current, str) else current) == document:
        return []
    calls = []
    versions = list(pages.items(iam, "list_policy_versions", "Versions", PolicyArn=arn))
    if len(versions) >= _MAX_VERSIONS:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        calls.append(Call("iam", "delete_policy_version", {"PolicyArn": arn, "VersionId": oldest["VersionId"]},
                          f"delete the oldest version of {name} (IAM keeps five)"))
    calls.append(Call("iam", "create_policy_version", {"PolicyArn": arn, "PolicyDocument": text, "SetAsDefault": True},
                      f"update the managed policy {name} to this kit's"))
    return calls


_DESCRIPTIONS = {
    policies.ROOM_POLICY: "hello-winners: what each participant may do, on the resources of their own stage tag",
    policies.BOUNDARY_POLICY: "hello-winners: the most any role a participant creates may do",
}


def _group(iam, room):
    try:
        iam.get_group(GroupName=GROUP)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        return [Call("iam", "create_group", {"GroupName": GROUP, "Path": USER_PATH}, f"create the group {GROUP}"),
                _attach(room)]
    attached = pages.items(iam, "list_attached_group_policies", "AttachedPolicies", GroupName=GROUP)
    return [] if any(p["PolicyArn"] == room.room_policy_arn for p in attached) else [_attach(room)]


def _attach(room):
    return Call("iam", "attach_group_policy", {"GroupName": GROUP, "PolicyArn": room.room_policy_arn},
                f"attach {policies.ROOM_POLICY} to the group {GROUP}")


def _participant(iam, name, exists):
    tag = {"Key": naming.STAGE_TAG, "Value": name}
    if not exists:
        return [Call("iam", "create_user", {"UserName": name, "Path": USER_PATH, "Tags": [tag]},
                     f"create the user {name}, tagged {naming.STAGE_TAG}={name}"),
                Call("iam", "add_user_to_group", {"GroupName": GROUP, "UserName": name}, f"add {name} to {GROUP}")]
    calls = []
    tags = {t["Key"]: t["Value"] for t in pages.items(iam, "list_user_tags", "Tags", UserName=name)}
    if tags.get(naming.STAGE_TAG) != name:
        calls.append(Call("iam", "tag_user", {"UserName": name, "Tags": [tag]},
                          f"tag the user {name} {naming.STAGE_TAG}={name}"))
    groups = pages.items(iam, "list_groups_for_user", "Groups", UserName=name)
    if not any(group["GroupName"] == GROUP for group in groups):
        calls.append(Call("iam", "add_user_to_group", {"GroupName": GROUP, "UserName": name}, f"add {name} to {GROUP}"))
    return calls
