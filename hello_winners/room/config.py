"""A room's identity and settings, kept in its folder: the room code, the instructor token, the secret
that signs its forms, the stage it plays on and where it listens.

The file is readable by its owner alone and never served; the room code is what participants type
(short, without look-alike characters such as 0 and O), the instructor token what the instructor's
pages and commands present.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import secrets
from pathlib import Path

import psutil

from hello_winners.errors import ConfigError
from hello_winners.room.durable import write_atomically

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6
DEFAULT_PORT = 8800
CONFIG_FILE = "room.json"


@dataclasses.dataclass(frozen=True)
class RoomConfig:
    """Everything a room server needs to know about its room, saved as ``room.json`` in the room's folder."""

    code: str
    instructor_token: str
    secret: str
    target: str
    stage: str
    stream: str
    api_id: str = ""
    region: str = ""

    @classmethod
    def new(cls, target: str, stage: str, stream: str) -> RoomConfig:
        """A new room with a fresh code, instructor token and secret."""
        return cls(code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
                   instructor_token=secrets.token_urlsafe(24), secret=secrets.token_hex(32),
                   target=target, stage=stage, stream=stream)

    @classmethod
    def load(cls, folder: Path) -> RoomConfig:
        path = Path(folder) / CONFIG_FILE
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as error:
            raise ConfigError(f"the room's settings in {path} cannot be read ({type(error).__name__}): "
                              "start a new room with `hello-winners room start --fresh`") from None

    def save(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(Path(folder) / CONFIG_FILE, json.dumps(dataclasses.asdict(self), indent=2).encode())


def parse_listen(value: str) -> tuple[str, int]:
    """(host, port) of ``--listen``: ``HOST:PORT``, ``HOST`` (port 8800) or ``:PORT`` (loopback)."""
    host, _, port = value.rpartition(":") if ":" in value else (value, "", str(DEFAULT_PORT))
    host = (host or "127.0.0.1").strip("[]")
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise ConfigError(f"--listen {value!r} is not an address and port such as 127.0.0.1:8800 or "
                          "0.0.0.0:8800") from None
    if not 0 <= number <= 65535:
        raise ConfigError(f"--listen {value!r} names port {number}, which does not exist: choose 1024 to 65535")
    return host, number


def join_hosts(host: str) -> list[str]:
    """The addresses participants can reach a server listening on ``host`` at: itself, or for 0.0.0.0 (or
    ::) every IPv4 address of this machine's network interfaces, private ones first, loopback last."""
    if host not in ("0.0.0.0", "::"):
        return [host]
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family.name == "AF_INET":
                found.append(ipaddress.ip_address(address.address))
    found.sort(key=lambda ip: (ip.is_loopback, not ip.is_private, str(ip)))
    return [str(ip) for ip in found] or ["127.0.0.1"]


def base_url(host: str, port: int) -> str:
    """The server's address as a URL (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
