"""The `hello-winners` command."""

import argparse
import sys

from . import aws, embedded
from .errors import HelloWinnersError


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        with aws.friendly_errors():
            return args.run(args) or 0
    except HelloWinnersError as error:
        print(f"hello-winners: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hello-winners: interrupted", file=sys.stderr)
        return 130


def _parser():
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a flag given before or after the command name is kept, never reset by the other level.
    common.add_argument(
        "--target", default=argparse.SUPPRESS, help=f"embedded or aws (default: ${aws.TARGET_ENV} or embedded)"
    )
    common.add_argument(
        "--stage", default=argparse.SUPPRESS, help="prefix of every resource name (default: $HELLO_WINNERS_STAGE or your user name)"
    )

    parser = argparse.ArgumentParser(
        prog="hello-winners", description="The Hello, Retail! winners workshop kit.", parents=[common]
    )
    commands = parser.add_subparsers(title="commands")

    server = commands.add_parser("server", help="the embedded AWS (a moto server on 127.0.0.1)", parents=[common])
    server_commands = server.add_subparsers(title="server commands")
    start = server_commands.add_parser("start", help="start it, or find the one running")
    start.add_argument("--port", type=int, help=f"a fixed port (default: ${embedded.PORT_ENV} or a free one)")
    start.set_defaults(run=_server_start)
    server_commands.add_parser("stop", help="stop it").set_defaults(run=_server_stop)
    server_commands.add_parser("status", help="is it running, and where").set_defaults(run=_server_status)
    return parser


def _server_start(args):
    server = embedded.ensure_running(args.port)
    print(f"embedded AWS running at {server.endpoint} (pid {server.pid}); state in {embedded.state_dir()}")


def _server_stop(args):
    server = embedded.stop()
    print(f"stopped the embedded AWS at {server.endpoint}" if server else "no embedded AWS was running")


def _server_status(args):
    state = embedded.status()
    if not state["running"]:
        print(f"embedded AWS: not running (state folder {state['state_dir']})")
        return 3
    print(f"embedded AWS: running at {state['endpoint']}, pid {state['pid']}, up {state['uptime_s']} s")
    print(f"state folder: {state['state_dir']}; log: {state['log']}")
