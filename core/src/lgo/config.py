"""Where the kernel keeps its data, read from the environment once; the data folder and its files private to their
user (patients' health data, the keys of the secrets)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path


def data_dir() -> Path:
    """``LGO_HOME``, else the XDG data folder: the embedded default needs no configuration."""
    home = os.environ.get("LGO_HOME")
    if home:
        return Path(home)
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "lgo"


log = logging.getLogger(__name__)


def private_dir(path: Path) -> Path:
    """``path`` as a folder, created readable by this user only (0700) when it does not exist. An existing folder is
    left as it is (``LGO_HOME`` may be a folder the administrator shares on purpose): its files are private anyway."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # whatever the umask
    return path


def private_file(path: Path) -> None:
    """An existing file of this user made readable and writable by this user only (0600)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_mode & 0o077 and info.st_uid == os.geteuid():
        log.info("%s was readable by others (mode %o): made private", path, info.st_mode & 0o777)
        path.chmod(0o600)


def create_private_file(path: Path, content: bytes) -> bool:
    """Write ``content`` to a new file created 0600 in a private folder; False when the file already exists."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return True


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'lgo.sqlite'}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    pharmacy_finess: str | None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("LGO_DATABASE_URL") or default_database_url(),
            pharmacy_finess=os.environ.get("LGO_PHARMACY") or None,
        )
