"""Reading an archive that came from outside, without trusting it.

Names are checked before anything is read (no absolute path, no ``..``, no drive, no backslash, no control
character, no duplicate: a *zip slip* entry is refused even though nothing is ever extracted to disk); the number of
entries is capped; every entry is read in chunks, its size checked against what its header declares and against a
cap, its compression ratio bounded (a *zip bomb* stops after a few megabytes, whatever its headers say); encrypted
or unknown compression is refused. Each refusal is a French :class:`ArchiveRefused`.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from lgo.errors import ValidationError

_CHUNK = 1024 * 1024
#: One path segment: letters, digits and a few signs; no control character, no backslash, no colon.
_SEGMENT = re.compile(r"^[A-Za-z0-9_.\- ]{1,120}$")


class ArchiveRefused(ValidationError):
    """The archive is refused (tampered, incomplete, hostile): nothing was written."""


class SafeZip:
    """A zip archive read with limits. ``what_fr`` names it in messages (« l'archive PAT00012.ZIP »)."""

    def __init__(
        self,
        source: Path | IO[bytes],
        *,
        what_fr: str,
        max_entries: int,
        max_entry_bytes: int,
        max_ratio: int = 200,
    ) -> None:
        self.what_fr = what_fr
        self.max_entry_bytes = max_entry_bytes
        self.max_ratio = max_ratio
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
            raise ArchiveRefused(f"{_cap(what_fr)} n'est pas une archive zip lisible.", detail=repr(exc)) from exc
        infos = self._zip.infolist()
        if len(infos) > max_entries:
            raise ArchiveRefused(
                f"{_cap(what_fr)} contient trop de fichiers ({len(infos)}) : elle est refusée.",
                detail=f"{len(infos)} entries > {max_entries}",
            )
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            check_name(info.filename, what_fr)
            if info.filename in self._infos:
                raise ArchiveRefused(
                    f"{_cap(what_fr)} contient deux fois le fichier {info.filename} : elle est refusée.",
                    detail=f"duplicate {info.filename}",
                )
            if info.flag_bits & 0x1:
                raise ArchiveRefused(
                    f"{_cap(what_fr)} contient un fichier chiffré ({info.filename}) : elle est refusée.",
                    detail=f"encrypted {info.filename}",
                )
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ArchiveRefused(
                    f"{_cap(what_fr)} utilise une compression inconnue ({info.filename}) : elle est refusée.",
                    detail=f"compression {info.compress_type} for {info.filename}",
                )
            self._infos[info.filename] = info

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self._infos)

    def has(self, name: str) -> bool:
        return name in self._infos

    def size(self, name: str) -> int:
        return self._info(name).file_size

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._infos.get(name)
        if info is None:
            raise ArchiveRefused(
                f"Le fichier {name} manque dans {self.what_fr} : l'archive est incomplète et refusée.",
                detail=f"missing {name}",
            )
        return info

    def check_declared(self) -> None:
        """Every entry's declared size and compression ratio within the limits (read from the directory only)."""
        for name, info in self._infos.items():
            if info.file_size > self.max_entry_bytes or (
                info.compress_type == zipfile.ZIP_DEFLATED
                and info.file_size > max(1, info.compress_size) * self.max_ratio
            ):
                raise ArchiveRefused(
                    f"Le fichier {name} de {self.what_fr} est trop volumineux ou trop compressé : l'archive est "
                    "refusée.",
                    detail=f"{name}: {info.file_size} bytes from {info.compress_size}",
                )

    def chunks(self, name: str) -> Iterator[bytes]:
        """The entry's bytes in chunks, checked as they come (size, ratio, CRC)."""
        info = self._info(name)
        declared = info.file_size
        if declared > self.max_entry_bytes:
            raise ArchiveRefused(
                f"Le fichier {name} de {self.what_fr} est trop volumineux : l'archive est refusée.",
                detail=f"{name}: {declared} > {self.max_entry_bytes}",
            )
        if info.compress_type == zipfile.ZIP_DEFLATED and declared > max(1, info.compress_size) * self.max_ratio:
            raise ArchiveRefused(
                f"Le fichier {name} de {self.what_fr} a un taux de compression anormal : l'archive est refusée.",
                detail=f"ratio {declared}/{info.compress_size}",
            )
        read = 0
        try:
            with self._zip.open(info) as handle:
                while chunk := handle.read(_CHUNK):
                    read += len(chunk)
                    if read > declared or read > max(1, info.compress_size) * self.max_ratio + _CHUNK:
                        raise ArchiveRefused(
                            f"Le fichier {name} de {self.what_fr} est plus gros que ce qu'annonce l'archive : "
                            "elle est refusée.",
                            detail=f"{name}: more than {declared} bytes",
                        )
                    yield chunk
        except ArchiveRefused:
            raise
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError, OSError) as exc:
            raise ArchiveRefused(
                f"Le fichier {name} de {self.what_fr} est illisible ou altéré : l'archive est refusée.",
                detail=f"{name}: {exc!r}",
            ) from exc
        if read != declared:
            raise ArchiveRefused(
                f"Le fichier {name} de {self.what_fr} est tronqué : l'archive est refusée.",
                detail=f"{name}: {read} bytes, {declared} declared",
            )

    def read(self, name: str, *, limit: int | None = None) -> bytes:
        if limit is not None and self._info(name).file_size > limit:
            raise ArchiveRefused(
                f"Le fichier {name} de {self.what_fr} est trop volumineux : l'archive est refusée.",
                detail=f"{name}: {self._info(name).file_size} > {limit}",
            )
        return b"".join(self.chunks(name))

    def sha256(self, name: str) -> tuple[int, str]:
        digest = hashlib.sha256()
        size = 0
        for chunk in self.chunks(name):
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest()

    def spool(self, name: str) -> tuple[BinaryIO, str]:
        """The entry copied to a temporary file (in memory while small), with its SHA-256."""
        spooled = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - the caller's
        digest = hashlib.sha256()
        for chunk in self.chunks(name):
            digest.update(chunk)
            spooled.write(chunk)
        spooled.seek(0)
        return spooled, digest.hexdigest()  # type: ignore[return-value]


def check_name(name: str, what_fr: str) -> None:
    """A relative path of plain segments (a folder entry ends with ``/``); anything else is a refused zip slip."""
    body = name[:-1] if name.endswith("/") else name
    segments = body.split("/")
    if (
        not body
        or len(name) > 255
        or any(segment in ("", ".", "..") or not _SEGMENT.match(segment) for segment in segments)
    ):
        raise ArchiveRefused(
            f"{_cap(what_fr)} contient un chemin dangereux ou invalide ({name!r}) : elle est refusée.",
            detail=f"unsafe entry name {name!r}",
        )


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
