"""The embedded AWS's keys: made once per state folder, whoever asks first."""

import threading

from hello_winners.embedded import credentials
from hello_winners.targets.state import STATE_DIR_ENV


def test_threads_asking_at_once_in_a_fresh_state_folder_all_get_the_same_keys(monkeypatch, tmp_path):
    """play starts the local runtime on a thread while its own thread asks for keys: one process, two askers."""
    for attempt in range(30):
        monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / str(attempt)))
        start, got, failed = threading.Barrier(8), [], []

        def ask():
            start.wait()
            try:
                got.append(credentials.keys(credentials.PARTICIPANT))
            except Exception as error:  # noqa: BLE001 - the test reports it
                failed.append(error)

        askers = [threading.Thread(target=ask) for _ in range(8)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join()
        assert not failed
        assert len(set(got)) == 1 and got[0] == credentials.keys(credentials.PARTICIPANT)
        assert [p.name for p in (tmp_path / str(attempt)).iterdir()] == ["credentials.json"]  # no draft left
