"""Entry point of the embedded server: moto's standalone server, without moto's push into Lambda.

moto tries to run a function in Docker for every record put on a stream that has an event source
mapping. Real Lambda does not push: it polls the stream, and so does the kit's local runtime
(hello_winners.local_lambda). Without Docker each of those attempts only fails and logs, so they are
switched off here; every API moto serves is left as it is.
"""

from moto.awslambda.models import LambdaBackend
from moto.server import main


def _polled_by_the_local_runtime(self, **_record):
    return None


LambdaBackend.send_kinesis_message = _polled_by_the_local_runtime

if __name__ == "__main__":
    main()
