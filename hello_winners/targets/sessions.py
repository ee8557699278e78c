"""boto3 sessions that read each service's model once per process, however many sessions the kit makes.

A new boto3 session reads every service's model files again (tens of milliseconds per service), and the
kit makes many: one per stage's participant on the embedded AWS, one per instructor's or runtime's
identity, a new one whenever the environment may have changed. botocore's loader keeps what it read, so
every session here shares one loader; what differs between sessions (region, credentials, profile)
lives in the session, not in the loader.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import botocore.loaders
import botocore.session


def session(**arguments: Any) -> boto3.Session:
    """``boto3.Session(**arguments)``, reading the service models through the process's one loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", loader())
    return boto3.Session(botocore_session=core, **arguments)


@functools.lru_cache(maxsize=1)
def loader() -> botocore.loaders.Loader:
    """The process's loader: where botocore would look for a session (AWS_DATA_PATH, ~/.aws/models first)."""
    usual = botocore.session.get_session().get_component("data_loader")
    return botocore.loaders.Loader(extra_search_paths=_Paths(usual.search_paths), include_default_search_paths=False)


class _Paths(list):
    """A loader's search paths, each kept once: every boto3 session adds its own data folder to its loader."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)
