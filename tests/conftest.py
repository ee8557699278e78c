"""Suite-wide settings: dummy credentials, a fixed region, and a private state folder.

The state folder keeps the suite's embedded server apart from one a developer may have running.
"""

import os
import tempfile

import pytest

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


def pytest_configure(config):
    """Build the solved copies of the lessons, which nbval then runs (see testpaths in pyproject.toml)."""
    from hello_winners import notebooks

    notebooks.build_solved(config.rootpath / "artifacts" / "solved")


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
