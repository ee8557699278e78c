"""The embedded AWS: a moto server on 127.0.0.1 and the local Lambda runtime beside it (not in the zip).

``server`` owns the moto server, ``detached`` the background processes both run as, ``runtime`` the
local Lambda runtime and ``local_api`` its API Gateway part. The server's interface is re-exported
here, so ``embedded.ensure_running()`` reads as what it does.
"""

from hello_winners.state import STATE_DIR_ENV, state_dir
from hello_winners.embedded.server import (
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
