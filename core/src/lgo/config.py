"""Where the kernel keeps its data, read from the environment once."""

from __future__ import annotations

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
