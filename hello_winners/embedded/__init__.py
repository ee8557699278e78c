"""The embedded AWS: a moto server on 127.0.0.1 and the local Lambda runtime beside it (not in the zip).

``server`` owns the moto server, ``detached`` the background processes both run as, ``runtime`` the
local Lambda runtime and ``local_api`` its API Gateway part. The server's interface is re-exported
here, so ``embedded.ensure_running()`` reads as what it does.

It needs POSIX sessions and signals: on Windows, importing it raises ConfigError saying so.
"""

import sys

from hello_winners.errors import ConfigError

if sys.platform == "win32":
    raise ConfigError("the embedded AWS needs POSIX sessions and signals, which Windows lacks: "
                      "run the kit inside WSL (Windows Subsystem for Linux), or use real AWS with --target aws")

from hello_winners.targets.state import STATE_DIR_ENV, state_dir  # noqa: E402
from hello_winners.embedded.server import (  # noqa: E402
    ENDPOINT_ENV,
    HOST,
    PORT_ENV,
    REGION,
    Server,
    answers,
    endpoint,
    ensure_running,
    find,
    participant_environment,
    start,
    status,
    stop,
)

__all__ = ["ENDPOINT_ENV", "HOST", "PORT_ENV", "REGION", "STATE_DIR_ENV", "Server", "answers", "endpoint",
           "ensure_running", "find", "participant_environment", "start", "state_dir", "status", "stop"]
