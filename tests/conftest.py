"""Suite-wide settings: dummy credentials, a fixed region, a private state folder, and the test tiers.

The state folder keeps the suite's embedded server apart from one a developer may have running.

Tiers: **pure** tests need nothing but Python (moto's in-process mock is fine); **embedded** tests talk
to the embedded AWS over HTTP; **notebooks** are the solved lessons run by nbval; **browser** tests
drive headless Chromium. The tier of each module is listed below, and the notebooks and browser tests
are embedded too, so ``pytest -m "not embedded"`` runs the pure tier alone. A pure test that starts the
embedded AWS fails with a sentence saying so, so the tiers cannot drift.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from properties import profile

settings.load_profile(profile())

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    HELLO_WINNERS_STAGE="test",
    HELLO_WINNERS_ROLE_DELAY_S="1",  # a new role's propagation delay, shorter than AWS's: the retry still runs
)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "HELLO_WINNERS_TARGET", "HELLO_WINNERS_ENDPOINT"):
    os.environ.pop(_name, None)
_STATE = tempfile.mkdtemp(prefix="hello-winners-test-state-")
os.environ["HELLO_WINNERS_STATE_DIR"] = _STATE


# The solved copies of the lessons, which nbval runs (testpaths in pyproject.toml names their folder).
# Built here, on import: pytest resolves testpaths right after loading this file, and drops a folder
# that does not exist yet, so a later hook would leave a clean clone's notebooks untested.
from hello_winners.workshop import notebooks  # noqa: E402

notebooks.build_solved(Path(__file__).resolve().parents[1] / "artifacts" / "solved")


# Modules whose tests need the embedded AWS (or a browser on top of it); every other module is pure.
EMBEDDED_MODULES = {"test_binding", "test_denials", "test_deploy", "test_embedded", "test_escapes", "test_local_lambda",
                    "test_permissions", "test_play", "test_room_embedded", "test_room_follow", "test_strict"}
BROWSER_MODULES = {"test_jupyterlab_browser", "test_leaderboard_browser", "test_progress_browser", "test_room_browser"}


def pytest_collection_modifyitems(config, items):
    """Mark each test with its tier: pure, embedded, notebooks or browser (the last two are embedded too)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            tiers = ("notebooks", "embedded")
        elif item.path.stem in BROWSER_MODULES:
            tiers = ("browser", "embedded")
        elif item.path.stem in EMBEDDED_MODULES or item.get_closest_marker("embedded"):
            tiers = ("embedded",)
        else:
            tiers = ("pure",)
        for tier in tiers:
            item.add_marker(tier)


class _LessonsWarnNobody:
    """A solved lesson's cell may not write to stderr: in JupyterLab a participant sees that as a warning
    (tqdm's "IProgress not found" was one), and a warning in a lesson looks like a broken install.

    A plugin, not a hook of this file: this file's hooks reach only the tests under tests/, and nbval's cells
    are items of artifacts/solved.
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        result = yield
        outputs = getattr(item, "test_outputs", None) or []  # what nbval's cell item received from the kernel
        written = "".join(o.get("text", "") for o in outputs
                          if o.get("output_type") == "stream" and o.get("name") == "stderr")
        if item.path.suffix == ".ipynb" and written:
            pytest.fail(f"the cell wrote to stderr, which a participant sees as a warning:\n{written[:2000]}")
        return result


def pytest_configure(config):
    config.pluginmanager.register(_LessonsWarnNobody(), "hello-winners-lessons-warn-nobody")


@pytest.fixture(autouse=True, scope="session")
def _one_model_loader():
    """Every boto3 session of the suite reads the service models through one loader, as the kit's own
    sessions do (hello_winners.targets.sessions): moto's mock starts each test with a new default session,
    whose clients would read them again, a tenth of a second per test. Only reading is shared."""
    import botocore.session

    from hello_winners.targets import sessions

    shared = sessions.loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda search_path_string=None: shared)
        yield


@pytest.fixture(autouse=True)
def _pure_tests_stay_pure(request, monkeypatch):
    """A test of the pure tier may not start the embedded AWS: that is what its tier promises."""
    if request.node.get_closest_marker("embedded"):
        return

    def refuse(*_args, **_kwargs):
        raise AssertionError(f"{request.node.nodeid} starts the embedded AWS: add its module to EMBEDDED_MODULES "
                             "in tests/conftest.py (or mark it embedded)")

    from hello_winners.embedded import detached

    # Every start of the embedded moto server or the local runtime, by any path, goes through here.
    monkeypatch.setattr(detached.Detached, "ensure", refuse)


def pytest_collection_finish(session):
    """The README's test command must run the lessons: fail loudly if nbval collected none of them.

    A run that selects a tier (``-m "not embedded"``) or tests by name (``-k``) leaves them out on purpose.
    """
    config = session.config
    whole_suite = (config.args_source == pytest.Config.ArgsSource.TESTPATHS
                   and not config.option.markexpr and not config.option.keyword)
    if whole_suite and not any(item.path.suffix == ".ipynb" for item in session.items):
        raise pytest.UsageError("no solved notebook was collected: check testpaths and --nbval-lax in pyproject.toml")


def pytest_sessionfinish(session):
    """Stop what the notebooks' kernels started in the suite's state folder (no fixture owns it), then remove
    the folder: a run leaves nothing behind in the temporary directory, also when tests failed."""
    from hello_winners import embedded
    from hello_winners.embedded import runtime

    try:
        runtime.stop()
        embedded.stop()
    finally:
        shutil.rmtree(_STATE, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium (Debian's, driven by Playwright) per test module; each test opens its own
    contexts (a fresh profile: cookies, storage) in it. Not per session: Playwright's sync API keeps its
    event loop running on the main thread while it is open, and later tests call asyncio.run()."""
    from playwright.sync_api import sync_playwright

    from browsers import CHROMIUM, launch
    from needs import need

    need(CHROMIUM, "Chromium", "`apt-get install chromium` (.ci/run installs it)")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def embedded_server():
    """The suite's shared embedded moto server, real HTTP on 127.0.0.1 (stopped when the session ends)."""
    from hello_winners import embedded

    return embedded.ensure_running()


@pytest.fixture
def private_state(tmp_path, monkeypatch):
    """A private state folder, so the test owns its embedded AWS; whatever it started is stopped."""
    from hello_winners import embedded
    from hello_winners.embedded import runtime

    monkeypatch.setenv(embedded.STATE_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(embedded.PORT_ENV, raising=False)
    yield tmp_path
    runtime.stop()
    embedded.stop()


@pytest.fixture
def instructor(embedded_server):
    """Clients signed by the kit's own identity, which may do anything: for what a participant could not
    have made (a look-alike of another owner's), never for what the test checks a participant can do."""
    import boto3

    from hello_winners.embedded import REGION, credentials

    keys = credentials.keys(credentials.KIT)
    return lambda service: boto3.client(service, endpoint_url=embedded_server.endpoint, region_name=REGION, **vars(keys))


@pytest.fixture
def participant_keys(embedded_server):
    """The keys of the default stage's participant on the suite's server (a room's user, made if needed)."""
    from hello_winners import embedded
    from hello_winners.embedded import credentials, participants

    return credentials.participant_keys(participants.ensure(embedded_server.endpoint, embedded.REGION))


@pytest.fixture
def as_participant(embedded_server, participant_keys, monkeypatch):
    """boto3's environment points at the embedded AWS, signed as the participant (for code that reads it)."""
    keys = participant_keys
    monkeypatch.setenv("AWS_ENDPOINT_URL", embedded_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.aws_access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.aws_secret_access_key)
    return embedded_server


@pytest.fixture
def mocked_aws(monkeypatch):
    """The real-AWS target, answered by moto's in-process mock: boto3's calls to AWS's own endpoints,
    every parameter checked against the service models, without a network (pure tier). moto gets API
    Gateway's quick create, which it lacks, as the embedded AWS does."""
    from moto import mock_aws

    from hello_winners import targets
    from hello_winners.embedded import quick_create
    from hello_winners.targets import target

    quick_create.install()
    caches = (target._aws_session, target._caller_name)
    monkeypatch.setenv(targets.TARGET_ENV, targets.AWS)
    for cache in caches:
        cache.cache_clear()
    with mock_aws():
        yield
    for cache in caches:
        cache.cache_clear()
