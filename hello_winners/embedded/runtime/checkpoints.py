"""Where each shard poller stopped: the last processed sequence number per (mapping, shard), in a JSON file.

A restarted runtime resumes from it. What the file holds is never trusted blindly: a garbled file is
said (in the runtime's log and status) and read as empty, so every shard is read again from its
starting position; a single value that is no usable sequence number is the poller's to find and
replace (see pollers.py). Either way the consumer, exact under redelivery, counts nothing twice.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Callable

# Kinesis sequence numbers are decimal strings of up to 128 digits.
SEQUENCE_NUMBER = re.compile(r"[0-9]{1,128}")


class Checkpoints:
    """Last processed sequence number per (mapping, shard); ``problem`` says why a garbled file was set aside."""

    def __init__(self, path: Path, log: Callable[[str], None] = print) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data, self.problem = _load(path)
        if self.problem:
            log(self.problem)

    def get(self, mapping: str, shard: str) -> object:
        """The stored checkpoint as found (a sequence number, unless the file was tampered with), or None."""
        with self._lock:
            return self._data.get(mapping, {}).get(shard)

    def set(self, mapping: str, shard: str, sequence_number: str) -> None:
        with self._lock:
            self._data.setdefault(mapping, {})[shard] = sequence_number
            self._save()

    def forget(self, mapping: str, shard: str) -> None:
        """Drop one shard's checkpoint: its poller starts that shard over."""
        with self._lock:
            self._data.get(mapping, {}).pop(shard, None)
            self._save()

    def keep_only(self, mappings: set[str]) -> None:
        with self._lock:
            self._data = {m: shards for m, shards in self._data.items() if m in mappings}
            self._save()

    def _save(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._data, indent=1, sort_keys=True))
        tmp.replace(self.path)


def usable(value: object) -> bool:
    """Whether ``value`` can be a Kinesis sequence number at all."""
    return isinstance(value, str) and SEQUENCE_NUMBER.fullmatch(value) is not None


def _load(path):
    """(checkpoints, None), or ({}, the sentence that says why the file was set aside)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict) and all(isinstance(shards, dict) for shards in data.values()):
        return data, None
    return {}, (f"the checkpoints in {path} are not readable, so every shard is read again from its starting "
                "position (the consumer counts nothing twice)")
