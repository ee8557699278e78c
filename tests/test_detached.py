"""A detached process (the embedded AWS, the local runtime, the room server) that fails to start says why."""

import sys

import pytest

from hello_winners.embedded import detached
from hello_winners.errors import EmbeddedServerError


@pytest.mark.embedded  # it starts a process, as only the embedded tier may
def test_a_process_that_dies_at_its_start_is_one_sentence_with_the_last_line_it_wrote(private_state):
    """The log's last line travels in the error: a CI run (or a participant) that has lost the log still
    reads why; a control character in it is shown, not obeyed."""
    failing = detached.Detached("failing", healthy=lambda record: False, module="failing")
    code = "import sys; print('starting'); sys.exit('port 7 is taken\\x1b[2J')"
    with pytest.raises(EmbeddedServerError) as failed:
        failing.ensure([sys.executable, "-c", code], port=7)
    message = str(failed.value)
    assert message.startswith("the failing did not start on port 7 (its log ends: port 7 is taken\\x1b[2J): ")
    assert message.endswith(f"see {failing.log_path} for the whole log, then try again")
    assert failing.find() is None


@pytest.mark.embedded
def test_a_process_that_wrote_nothing_says_so(private_state):
    failing = detached.Detached("silent", healthy=lambda record: False, module="silent")
    failing.log_path.parent.mkdir(parents=True, exist_ok=True)
    failing.log_path.write_text("an earlier run's last words\n")
    with pytest.raises(EmbeddedServerError, match=r"did not start on port 7 \(it wrote nothing\): "):
        failing.ensure([sys.executable, "-c", "raise SystemExit(3)"], port=7)
