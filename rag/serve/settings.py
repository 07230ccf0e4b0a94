"""What the server is allowed to do: address, token, allowed folders and request limits, checked before it starts."""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from indexes.errors import ConfigError

__all__ = ["ServeSettings", "is_loopback", "read_token"]

MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class ServeSettings:
    """The server's options (``rag serve`` flags). Limits are per request."""

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None                 # bearer token; required on a non-loopback address
    allow_dirs: tuple[Path, ...] = ()        # folders POST /v1/ingest may read (resolved)
    upload_dir: Path | None = None           # where uploaded files are kept (default <RAG_HOME>/uploads)
    model_name: str = "rag"                  # the id GET /v1/models lists
    max_body_bytes: int = 1 << 20            # JSON request bodies
    max_upload_bytes: int = 50 << 20         # one uploaded file
    max_question_chars: int = 4000
    max_messages: int = 64
    max_waiting: int = 32                    # answers queued for the generator before 503 busy
    extra_hosts: tuple[str, ...] = field(default=())  # Host headers accepted besides the bound address

    def check(self) -> None:
        """Refuse unsafe combinations: any non-loopback address without a token."""
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(f"refusing to listen on {self.host} without a token: anyone who can reach it could "
                              "read your documents. Pass --token-file FILE (a file holding a long random "
                              "secret), or bind 127.0.0.1")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"the token is {len(self.token)} characters; use at least {MIN_TOKEN_CHARS} "
                              "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))' > token)")
        missing = [str(d) for d in self.allow_dirs if not d.is_dir()]
        if missing:
            raise ConfigError(f"--allow-dir {', '.join(missing)}: not a folder")


def is_loopback(host: str) -> bool:
    """Is ``host`` an address only this machine can reach (127.0.0.0/8, ::1, localhost)?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: str | Path) -> str:
    """The bearer token in ``path`` (surrounding whitespace dropped); the file must not be readable by others."""
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the token file {path}: {exc.strerror}") from exc
    if os.name != "nt" and mode & (stat.S_IRWXG | stat.S_IRWXO):  # Windows reports no POSIX permission bits
        raise ConfigError(f"the token file {path} is readable by other users: chmod 600 {path}")
    if not token:
        raise ConfigError(f"the token file {path} is empty")
    return token
