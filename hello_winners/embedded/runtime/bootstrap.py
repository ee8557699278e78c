"""Runs inside one worker process of the local Lambda runtime, as Lambda's own bootstrap would.

Started as a script (``python -S bootstrap.py TASK_ROOT RUNTIME_LIB``) with the function's environment
only, it imports the handler from the unpacked zip (TASK_ROOT) with nothing else on the path but the
standard library and what the python3.12 runtime provides (RUNTIME_LIB: boto3 and its dependencies).
A module missing from the zip therefore fails here as it would on AWS. It then answers invocations:
one JSON request per line on stdin, one JSON answer per line on the original stdout; whatever the
function prints goes to stderr, the function's log.

Started as a spare (``python -S bootstrap.py --spare RUNTIME_LIB``, spares.py), it imports the runtime's
boto3 first, then waits for one line that makes it a function's worker: its task root, its whole
environment and its log. From there it is the worker above.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import uuid


class Context:
    """The parts of Lambda's context object that handlers use."""

    def __init__(self, request: dict) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = "$LATEST"
        self.invoked_function_arn = request.get("function_arn", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request.get("request_id") or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = request["deadline"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def load(handler: str) -> tuple[object, dict | None]:
    """The handler function, or the error Lambda would report for it."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        return None, _error("Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values to unpack")
    try:
        module = __import__(module_name, fromlist=["_"])
    except Exception as error:  # noqa: BLE001 - any import failure is the function's init error
        return None, _error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}")
    function = getattr(module, function_name, None)
    if not callable(function):
        return None, _error("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function, None


def _error(error_type, message, stack=None):
    return {"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}


SPARE = "--spare"


def become(assignment: dict) -> str:
    """Turn a spare into the worker of the function ``assignment`` names; returns its task root."""
    os.environ.clear()
    os.environ.update(assignment["environment"])
    if hasattr(time, "tzset"):  # not on Windows
        time.tzset()
    log = os.open(assignment["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 2)
    os.close(log)
    sys.argv[1:] = [assignment["task_root"], sys.argv[2]]
    return assignment["task_root"]


def main() -> None:
    runtime_lib = sys.argv[2]
    sys.path[:] = [runtime_lib] + [p for p in sys.path[1:] if p]
    if sys.argv[1] == SPARE:
        import boto3  # noqa: F401 - the runtime's own, which the handler's import then finds loaded

        assignment = sys.stdin.readline()
        if not assignment:  # the runtime stopped before it needed this spare
            return
        task_root = become(json.loads(assignment))
    else:
        task_root = sys.argv[1]
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    function, init_error = load(os.environ["_HANDLER"])
    for line in sys.stdin:
        request = json.loads(line)
        if init_error:
            answer = {"error": init_error}
        else:
            try:
                answer = {"result": json.loads(json.dumps(function(request["event"], Context(request))))}
            except Exception as error:  # noqa: BLE001 - reported to the caller as Lambda reports it
                stack = traceback.format_tb(error.__traceback__)
                answer = {"error": _error(type(error).__name__, str(error), stack)}
                print(f"[ERROR] {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        sys.stderr.flush()
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
