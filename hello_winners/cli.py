"""The `hello-winners` command."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shlex
import sys
import threading
import time
import webbrowser
from collections.abc import Callable

from hello_winners.targets import choice
from hello_winners.errors import HelloWinnersError
from hello_winners.view.board import printable

# At most this long the command waits for the embedded server's process to be spawned before it goes on.
SPAWN_WAIT_S = 1.0


def main(argv: list[str] | None = None) -> int:
    """Run the command; its exit status. A reader that stops early (``| head``) ends it quietly.

    Python's documented handling of SIGPIPE: flush while a BrokenPipeError can still be caught, then
    point stdout at devnull so that the interpreter's own flush at exit has nowhere to fail.
    """
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def command() -> int:
    """The console script: :func:`main`, then an exit without the garbage collector's last full pass.

    As Python exits it collects every object once more: a fifth of a second after ``play``, for a
    process that is ending with its files closed and its exit handlers still to run. ``gc.freeze``
    leaves that pass out; the exit handlers run as before.
    """
    code = main()
    gc.freeze()
    return code


def _run(argv):
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    if args.run is _preflight:  # before the kit's imports below: it must run, and say so, when they fail
        return _preflight(args)
    early = start_early(args)
    try:
        from hello_winners import targets  # boto3 and the rest of the kit: a quarter of a second to load

        with targets.friendly_errors():
            return args.run(args) or 0
    except HelloWinnersError as error:
        print(f"hello-winners: {printable(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hello-winners: interrupted", file=sys.stderr)
        return 130
    finally:
        if early:  # a command that failed at once still leaves no start half done
            early.join()


def _parser():
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a flag given before or after the command name is kept, never reset by the other level.
    common.add_argument("--target", default=argparse.SUPPRESS,
                        help=f"embedded (default) or aws; also ${choice.TARGET_ENV}")
    common.add_argument("--stage", default=argparse.SUPPRESS,
                        help="prefix of every resource name; also $HELLO_WINNERS_STAGE (default: your user name, "
                             "or on AWS your IAM user or role session name)")

    parser = argparse.ArgumentParser(prog="hello-winners", description="The Hello, Retail! winners workshop kit.",
                                     parents=[common])
    commands = parser.add_subparsers(title="commands")

    play = commands.add_parser("play", parents=[common], help="the whole workshop: deploy, replay a day, print the winners")
    play.add_argument("--log", help="a JSONL event log to replay (default: data/workshop-day.jsonl)")
    play.add_argument("--fresh", action="store_true", help="tear the stage down first and start over")
    play.add_argument("--serve", action="store_true", help="then keep serving the leaderboard page until Ctrl-C")
    play.set_defaults(run=_play)

    deploy = commands.add_parser("deploy", parents=[common], help="create or update the stage's resources")
    deploy.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    deploy.add_argument("--shards", type=int, help="shards of a new stream (default 2)")
    deploy.add_argument("--batch-size", type=int, help="records per consumer invocation (default 100)")
    deploy.add_argument("--batching-window", type=int, help="seconds to wait for a batch to fill (default 1)")
    deploy.set_defaults(run=_deploy)

    commands.add_parser("status", parents=[common], help="what the stage has, and what it costs a day").set_defaults(run=_status)
    teardown = commands.add_parser("teardown", parents=[common], help="delete everything of the stage")
    teardown.add_argument("--all-stages", action="store_true",
                          help="every stage carrying the kit's tags (a room's account at the end): lists them, asks first")
    teardown.add_argument("--yes", action="store_true", help="with --all-stages, do not ask (for scripts)")
    teardown.set_defaults(run=_teardown)
    commands.add_parser("serve", parents=[common], help="open the leaderboard page and keep it served").set_defaults(run=_serve)

    server = commands.add_parser("server", parents=[common], help="the embedded AWS (a moto server on 127.0.0.1)")
    server_commands = server.add_subparsers(title="server commands")
    start = server_commands.add_parser("start", help="start it, or find the one running")
    start.add_argument("--port", type=int, help="a fixed port (default: $HELLO_WINNERS_PORT or a free one)")
    start.set_defaults(run=_server_start)
    server_commands.add_parser("stop", help="stop it and the local Lambda runtime").set_defaults(run=_server_stop)
    server_commands.add_parser("status", help="is it running, and where").set_defaults(run=_server_status)
    server_commands.add_parser(
        "env", help="shell export lines that let the AWS CLI and other tools use it as the participant: "
                    'eval "$(hello-winners server env)"').set_defaults(run=_server_env)

    room = commands.add_parser("room", parents=[common], help="a room that plays the shop together, from their phones")
    room_commands = room.add_subparsers(title="room commands")
    room_start = room_commands.add_parser(
        "start", parents=[common], help="deploy the room's stage (<your stage>-room) and start the room server")
    room_start.add_argument("--listen", default="127.0.0.1:8800",
                            help="HOST:PORT to listen on (default 127.0.0.1:8800, this machine only; "
                                 "0.0.0.0:8800 opens it to the room's network)")
    room_start.add_argument("--fresh", action="store_true", help="keep the current room aside and open a new one")
    room_start.add_argument("--photo-wait", type=float, default=180.0,
                            help="seconds a photographer has for a photo before it goes to another (default 180)")
    room_start.set_defaults(run=_room_start)
    room_commands.add_parser("stop", help="stop the room server (the room is kept)").set_defaults(run=_room_stop)
    room_commands.add_parser("status", help="where to join, the room code, and how the room stands"
                             ).set_defaults(run=_room_status)
    room_export = room_commands.add_parser(
        "export", help="write the room log as an event log that `play --log`, the lessons and the analysis read")
    room_export.add_argument("file", help="the event log to write (JSONL; .jsonl.gz compresses it)")
    room_export.set_defaults(run=_room_export)
    room_follow = room_commands.add_parser(
        "follow", parents=[common],
        help="put the room's events on your stage's stream, live, each once (until Ctrl-C; any lesson's first cell "
             "also follows in the background)")
    room_follow.add_argument("address", help="the room's address, as the instructor shows it (the join address with "
                                             "its ?code= will do)")
    room_follow.add_argument("--code", help="the room code (on the projector), unless the address carries it")
    room_follow.add_argument("--name", help="your display name in the room (asked when not given)")
    sharing = room_follow.add_mutually_exclusive_group()
    sharing.add_argument("--share-progress", dest="share", action="store_true", default=None,
                         help="send your checks' outcomes to the instructor (asked once when neither is given)")
    sharing.add_argument("--no-share-progress", dest="share", action="store_false",
                         help="keep your progress on this laptop")
    room_follow.set_defaults(run=_room_follow)
    room_report = room_commands.add_parser(
        "report", help="export the progress grid (participants by exercise) of the running room as CSV")
    room_report.add_argument("file", help="the CSV file to write")
    room_report.set_defaults(run=_room_report)
    commands.add_parser(
        "preflight", parents=[common], help="the day before the workshop: check Python, the install, the Jupyter kernel, the target "
                          "and a browser, and say what is wrong").set_defaults(run=_preflight)

    policy = commands.add_parser(
        "policy", help="the room policy as JSON: what the lessons, play, status and teardown need, for every "
                       "participant by their stage tag (the embedded AWS holds its participants to it); "
                       "--stage: the same for one stage; --boundary: the boundary of the roles participants create; "
                       "--room: the room server's policy")
    policy.add_argument("--stage", help="the room policy for this one stage, for an identity without the stage tag")
    policy.add_argument("--boundary", action="store_true", help="the permissions boundary instead")
    policy.add_argument("--room", action="store_true",
                        help="the room server's policy instead: the room stage's stream only (--stage, default "
                             "<your stage>-room)")
    policy.add_argument("--region", default="*", help="the region of the resources (default: any)")
    policy.add_argument("--account", default="*", help="the account id of the resources (default: any)")
    policy.set_defaults(run=_policy)

    room = commands.add_parser(
        "room-account", parents=[common],
        help="the steps that make an AWS account a room: the room policy, the permissions boundary, the group, "
             "and a user per participant tagged with their stage; printed, or made with --apply")
    room.add_argument("names", nargs="*", help="the participants' stage names, such as alice bob")
    room.add_argument("--file", help="a file of stage names, one a line (# starts a comment)")
    room.add_argument("--apply", action="store_true", help="make the changes (default: print them)")
    room.set_defaults(run=_room_account)
    return parser


def start_early(args: argparse.Namespace, start: Callable[[Callable[[], object]], object] | None = None
                ) -> threading.Thread | None:
    """Start the embedded AWS on a thread of its own now, when the command would start it anyway; the thread.

    A cold server takes half a second, and the command a quarter of one to load the kit: meanwhile. The
    command goes on once the server's process is spawned (or none needs to be, or after SPAWN_WAIT_S):
    started beside the command's imports, the spawn came 0.1 s later. Whatever goes wrong here is left
    to the command's own start, which says it. ``start(spawned)`` (tests) stands for the embedded
    server's start.
    """
    if args.run not in (_play, _deploy):
        return None
    try:
        if choice.chosen(getattr(args, "target", None)) != choice.EMBEDDED:
            return None
    except HelloWinnersError:  # an unknown target: the command says so
        return None
    begun = threading.Event()
    starting = threading.Thread(target=_starting, args=(start or _start_the_embedded_aws, begun), daemon=True,
                                name="start-the-embedded-aws")
    starting.start()
    begun.wait(SPAWN_WAIT_S)
    return starting


def _starting(start, begun):
    try:
        start(begun.set)
    finally:
        begun.set()


def _start_the_embedded_aws(spawned):
    with contextlib.suppress(Exception):  # left to the command's own start, which says what went wrong
        from hello_winners import embedded

        embedded.endpoint(spawned)  # starts none when $HELLO_WINNERS_ENDPOINT names a moto server run elsewhere


def _settings(args):
    from hello_winners import targets

    return targets.settings(getattr(args, "target", None), getattr(args, "stage", None))


def _play(args):
    from hello_winners.workshop import play

    settings = play.play_settings(getattr(args, "target", None), getattr(args, "stage", None))
    play.play(settings.target, settings.stage, log=args.log or play.WORKSHOP_DAY, fresh=args.fresh)
    if args.serve:
        _serve(args, settings)


def _deploy(args):
    from hello_winners import deploy
    from hello_winners.deploy.models import Options

    given = {"shards": args.shards, "batch_size": args.batch_size, "batching_window_s": args.batching_window}
    options = Options(**{k: v for k, v in given.items() if v is not None})
    settings = _settings(args)
    outputs = deploy.deploy(settings.target, settings.stage, options=options, dry_run=args.dry_run)
    if outputs:
        print(outputs)


def _status(args):
    from hello_winners import deploy, targets
    from hello_winners.deploy import teardown
    from hello_winners.deploy.names import Names

    settings = _settings(args)
    clients = deploy.clients(settings.target, settings.stage)
    found = teardown.inventory(clients, settings.prefix, settings.stage)
    print(f"stage {printable(settings.stage)} on {settings.target}: "
          + (f"{len(found)} resources" if found else "nothing deployed"))
    for item in found:
        print(f"  {item.kind:<21} {printable(item.name)}" + ("" if item.ours else "   (not the kit's: no kit tags)"))
    if any(item.kind == "stream" and item.ours for item in found):
        print(_standing_cost(clients, settings.prefix))
    for item in found:
        if item.kind == "queue" and item.ours:
            print(_failed_batches(clients["sqs"], item))
    stream_name = Names(settings.prefix, region="", account="").stream
    for line in targets.get(settings.target).runtime_lines(stream_name):
        print(printable(line))
    from hello_winners.room import follow

    for line in follow.describe(settings.stage):
        print(printable(line))


def _standing_cost(clients, prefix):
    """What the stage costs a day with no traffic: the stream's shard-hours; everything else is per use."""
    from hello_winners.analysis import cost
    from hello_winners.deploy.names import Names

    stream = Names(prefix, "", "").stream
    shards = clients["kinesis"].describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["OpenShardCount"]
    idle = cost.cost(cost.Scenario(name="idle stage", events_per_day=0, reads_per_day=0, shards=shards))
    return (f"standing cost: ${idle.daily:.2f} a day (${idle.monthly:.2f} a month) for the stream's {shards} shards "
            "on real AWS; requests, Lambda time and table writes are billed per use")


def _failed_batches(sqs, queue):
    """What the mapping's on-failure queue holds: batches Lambda gave up on after their retries."""
    held = sqs.get_queue_attributes(QueueUrl=queue.ident, AttributeNames=["ApproximateNumberOfMessages"])
    count = int(held["Attributes"]["ApproximateNumberOfMessages"])
    if not count:
        return f"failed batches: none (Lambda records a batch it gives up on in {printable(queue.name)})"
    return (f"failed batches: {count} recorded in {printable(queue.name)}: Lambda gave up on them after their retries; "
            "each message says where its records are on the stream, which keeps them for 24 hours")


def _teardown(args):
    from hello_winners.workshop import play

    if args.all_stages:
        return _teardown_all(args)
    removed = play.teardown(_settings(args))
    print(f"removed {len(removed)} resources; nothing of the kit's is left in this stage")


def _teardown_all(args):
    """Tear down every stage that carries the kit's tags, after listing them and asking (unless --yes)."""
    import dataclasses

    from hello_winners import deploy
    from hello_winners.deploy import teardown
    from hello_winners.workshop import play

    settings = _settings(args)
    found = teardown.stages(deploy.clients(settings.target))
    if not found:
        print(f"no stage of the kit has anything left on {settings.target}")
        return 0
    for stage, count in found.items():
        print(f"  {printable(stage):<40} {count} resources")
    if not args.yes:
        answer = input(f"delete everything of these {len(found)} stages on {settings.target}? [y/N] ") if sys.stdin.isatty() else ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted" + ("" if sys.stdin.isatty() else ": not a terminal, pass --yes to delete without asking"))
            return 1
    for stage in found:
        play.teardown(dataclasses.replace(settings, stage=stage))
    print(f"removed {len(found)} stages; nothing of the kit's is left in them")
    return 0


def _serve(args, settings=None):
    from hello_winners import deploy

    settings = settings or _settings(args)
    clients = deploy.clients(settings.target, settings.stage)
    outputs = deploy.outputs(settings, clients, deploy.stage_names(settings, clients))
    if not outputs.api_url:
        print(f"hello-winners: nothing is deployed in stage {printable(settings.stage)} yet: deploy it (lesson 3 or "
              f"`hello-winners deploy`), or show play's board with --stage {printable(settings.stage)}-play",
              file=sys.stderr)
        return 1
    page = outputs.api_url.rstrip("/") + "/"
    print(f"leaderboard: {page}  (Ctrl-C to stop watching; the page stays served while the embedded AWS runs)")
    webbrowser.open(page)
    while True:
        time.sleep(3600)


def _preflight(args):
    from hello_winners.workshop import preflight

    return preflight.main(getattr(args, "target", None), getattr(args, "stage", None))


def _server_start(args):
    from hello_winners import embedded

    server = embedded.start(args.port)
    print(f"embedded AWS running at {server.endpoint} (pid {server.pid}); state in {embedded.state_dir()}")


def _server_stop(args):
    from hello_winners import embedded
    from hello_winners.embedded import runtime

    runtime.stop()
    server = embedded.stop()
    print(f"stopped the embedded AWS at {server.endpoint}" if server else "no embedded AWS was running")


def _server_env(args):
    from hello_winners import embedded

    for name, value in embedded.participant_environment(getattr(args, "stage", None)).items():
        print(f"export {name}={shlex.quote(value)}")


def _policy(args):
    import boto3
    from botocore.exceptions import UnknownRegionError

    from hello_winners import deploy
    from hello_winners.deploy import policies
    from hello_winners.errors import ConfigError

    try:
        partition = "aws" if args.region == "*" else boto3.session.Session().get_partition_for_region(args.region)
    except UnknownRegionError:
        raise ConfigError(f"{args.region!r} is not an AWS region: give one such as us-east-1, or leave --region out "
                          "for any region") from None
    if args.room:
        from hello_winners.naming import stage_name
        from hello_winners.room.control import ROOM_SUFFIX

        stage = args.stage or stage_name() + ROOM_SUFFIX
        document = deploy.room_server_policy(stage, args.region, args.account, partition)
        what = f"the room server's policy for stage {stage}"
    elif args.boundary:
        document, what = policies.boundary(args.account, partition), "the permissions boundary (any region)"
    elif args.stage:
        document = policies.room(args.region, args.account, partition, stage=args.stage)
        what = f"the room policy for stage {args.stage}"
    else:
        document, what = policies.room(args.region, args.account, partition), "the room policy"
    print(json.dumps(document, indent=2))
    print(_fits(what, document), file=sys.stderr)


def _fits(what, document):
    """Which of IAM's size quotas ``document`` fits, in one line (on stderr: stdout stays the JSON)."""
    from hello_winners.deploy import policies

    size = policies.size(document)
    tightest = policies.tightest_limit(document)
    if tightest is None:
        return f"{what}: {size:,} characters without whitespace, more than any IAM policy may hold"
    kind, limit = tightest
    line = f"{what}: {size:,} characters without whitespace, within IAM's limit for {kind} ({limit:,})"
    if size <= policies.MANAGED_LIMIT:
        line += f"; as a managed policy ({policies.MANAGED_LIMIT:,}) {policies.MANAGED_LIMIT - size:,} to spare"
    return line


def _room_account(args):
    from pathlib import Path

    from hello_winners import targets
    from hello_winners.deploy import executor, room
    from hello_winners.errors import ConfigError

    names = list(args.names)
    if args.file:
        try:
            names += Path(args.file).read_text().splitlines()
        except OSError as error:
            raise ConfigError(f"cannot read the file of names {args.file}: {error.strerror}") from None
    participants = room.participants(names)
    target = targets.get(getattr(args, "target", None))
    clients = target.instructor_clients(("iam", "sts"))
    region = clients["sts"].meta.region_name  # IAM's own client is global
    if not region or region == "aws-global":
        raise ConfigError("no AWS region is set: set AWS_REGION to the room's region, which its policy names")
    account = clients["sts"].get_caller_identity()["Account"]
    wanted = room.Room(region, account, clients["iam"].meta.partition, participants)
    calls = room.plan(clients["iam"], wanted)
    print(f"room account {account} ({target.name}, policies for {region}) for {len(participants)} participants: "
          + (f"{len(calls)} changes" if calls else "nothing to change"))
    if not args.apply:
        if calls:
            print(executor.describe(calls))
            print("run again with --apply to make them")
        return 0
    executor.execute(clients, calls)
    if target.name == targets.AWS:
        print(f"done: each participant works with their own user's credentials (an access key: "
              f"`aws iam create-access-key --user-name NAME`), HELLO_WINNERS_TARGET=aws and AWS_REGION={region}")
    else:
        print("done: `hello-winners server env --stage NAME` prints a participant's keys for other tools")
    return 0


def _room_start(args):
    from hello_winners.room import control

    record, config = control.start(getattr(args, "target", None), getattr(args, "stage", None), listen=args.listen,
                                   fresh=args.fresh, photo_wait_s=args.photo_wait)
    print(f"room server running (pid {record.pid}) for stage {config.stage} on {config.target}; "
          "`hello-winners room status` shows this again, `hello-winners room stop` stops it")
    control.describe(record, config)


def _room_stop(args):
    from hello_winners.room import control

    stopped = control.stop()
    print(f"stopped the room server (pid {stopped.pid}); the room is kept for the next start" if stopped
          else "no room server was running")


def _room_status(args):
    from hello_winners.room import control

    return control.status()


def _room_export(args):
    from hello_winners.room import control

    control.export(args.file)


def _room_follow(args):
    from hello_winners import deploy
    from hello_winners.deploy.names import Names
    from hello_winners.room import follow, kit

    settings = _settings(args)
    address, code = kit.parse_address(args.address, args.code)
    asking = sys.stdin.isatty()
    name = args.name or (input("Your display name in the room: ").strip() if asking else "") or settings.stage
    membership = kit.join(address, code, name, settings.stage, settings.target)
    if args.share is not None or membership.share is None:
        membership.share = args.share if args.share is not None else asking and input(
            "Share your progress with the instructor (your display name, each check's exercise, passed or failed, "
            "the hint's key, the time; never your code)? [y/N] ").strip().lower() in ("y", "yes")
        membership.save()
    kinesis = deploy.clients(settings.target, settings.stage)["kinesis"]
    stream_name = Names(settings.prefix, region="", account="").stream
    print(f"{printable(membership.name)} follows room {membership.code}; your progress "
          + ("goes to the instructor" if membership.share else "stays on this laptop") + "; Ctrl-C stops")
    follower = follow.Follower(membership, kinesis, stream_name, say=lambda line: print(printable(line), flush=True),
                               verbose=True)
    try:
        follower.run(threading.Event())
    except follow.Busy as busy:
        print(f"hello-winners: {busy}: `hello-winners status` shows how it stands", file=sys.stderr)
        return 1
    except follow.Gone as gone:
        print(f"hello-winners: {gone}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"stopped following; {follower.cursor.position} of the room's events are on {stream_name}")
    return 0


def _room_report(args):
    from hello_winners.room import control

    control.report(args.file)


def _server_status(args):
    from hello_winners import embedded

    state = embedded.status()
    if not state["running"]:
        print(f"embedded AWS: not running (state folder {state['state_dir']})")
        if state["gone"]:
            print(state["gone"])
        return 3
    print(f"embedded AWS: running at {state['endpoint']}, pid {state['pid']}, up {state['uptime_s']} s")
    if not state["answering"]:
        print("it does not answer right now (busy, or held up by a client); it is left running: "
              "`hello-winners server stop` ends it")
    print(f"state folder: {state['state_dir']}; log: {state['log']}")
