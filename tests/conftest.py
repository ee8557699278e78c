"""Suite-wide settings: dummy credentials, a fixed region, and a private state folder.

The state folder keeps the suite's embedded server apart from one a developer may have running.
"""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Example timings on a shared 2-core machine say nothing about correctness: no per-example deadline.
settings.register_profile("hello-winners", deadline=None)
settings.load_profile("hello-winners")

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    HELLO_WINNERS_STAGE="test",
)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "HELLO_WINNERS_TARGET", "HELLO_WINNERS_ENDPOINT"):
    os.environ.pop(_name, None)
_STATE = tempfile.mkdtemp(prefix="hello-winners-test-state-")
os.environ["HELLO_WINNERS_STATE_DIR"] = _STATE


# The solved copies of the lessons, which nbval runs (testpaths in pyproject.toml names their folder).
# Built here, on import: pytest resolves testpaths right after loading this file, and drops a folder
# that does not exist yet, so a later hook would leave a clean clone's notebooks untested.
from hello_winners import notebooks  # noqa: E402

notebooks.build_solved(Path(__file__).resolve().parents[1] / "artifacts" / "solved")


def pytest_collection_finish(session):
    """The README's test command must run the lessons: fail loudly if nbval collected none of them."""
    if session.config.args_source == pytest.Config.ArgsSource.TESTPATHS and not any(
        item.path.suffix == ".ipynb" for item in session.items
    ):
        raise pytest.UsageError("no solved notebook was collected: check testpaths and --nbval-lax in pyproject.toml")


def pytest_sessionfinish(session):
    """Stop what the notebooks' kernels started in the suite's state folder: no fixture owns it."""
    from hello_winners import embedded, local_lambda

    local_lambda.stop()
    embedded.stop()


@pytest.fixture(scope="session")
def embedded_server():
    """The suite's shared embedded moto server, real HTTP on 127.0.0.1 (stopped when the session ends)."""
    from hello_winners import embedded

    return embedded.ensure_running()
