"""Entry point of the embedded server: moto's standalone server, with two changes for the local runtime.

- moto tries to run a function in Docker for every record put on a stream that has an event source
  mapping. Real Lambda does not push: it polls the stream, and so does the kit's local runtime
  (hello_winners.embedded.runtime). Without Docker each of those attempts only fails and logs, so
  they are switched off.
- GetFunction answers, as on AWS, with ``Code.Location``: where the function's zip can be fetched.
  moto names an S3 address it does not serve; here the zip is published as a file in the state folder
  (named by its SHA-256, written once), so the runtime runs whatever code was deployed, whoever built it.

Every API moto serves is otherwise left as it is.
"""

from pathlib import Path

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.server import main

from hello_winners.state import state_dir

_moto_get_code = LambdaFunction.get_code


def _polled_by_the_local_runtime(self, **_record):
    return None


def code_folder() -> Path:
    """Where the server publishes the deployed zips."""
    return state_dir() / "lambda-code"


def _get_code_with_location(self):
    answer = _moto_get_code(self)
    if self.code_bytes:
        answer["Code"] = {"RepositoryType": "S3", "Location": _published(self.code_bytes, self.code_digest).as_uri()}
    return answer


def _published(code: bytes, sha256_hex: str) -> Path:
    path = code_folder() / f"{sha256_hex}.zip"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(code)
        tmp.replace(path)
    return path


LambdaBackend.send_kinesis_message = _polled_by_the_local_runtime
LambdaFunction.get_code = _get_code_with_location

if __name__ == "__main__":
    main()
