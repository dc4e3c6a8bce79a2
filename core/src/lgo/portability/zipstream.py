"""A zip writer whose memory does not grow with the number of entries.

Python's :class:`zipfile.ZipFile` keeps every entry's record in memory until it writes the central directory: fine
for an archive of a few files, not for a pharmacy's export with one archive per patient (tens of thousands). This
writer streams each entry to the file and its central-directory record to a temporary file, copied at the end. It
writes what any unzip reads: stored or deflated entries, UTF-8 names, zip64 records when the archive needs them.
Each entry's size and SHA-256 are returned (the manifest lists them).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

_LOCAL = 0x04034B50
_CENTRAL = 0x02014B50
_END = 0x06054B50
_END64 = 0x06064B50
_LOCATOR64 = 0x07064B50
_UTF8 = 0x0800
_STORED, _DEFLATED = 0, 8
_MAX32 = 0xFFFFFFFF
_MAX16 = 0xFFFF
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Written:
    name: str
    size: int
    sha256: str


def _dos_time(moment: datetime) -> tuple[int, int]:
    year = max(1980, moment.year)
    return (
        (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2),
        ((year - 1980) << 9) | (moment.month << 5) | moment.day,
    )


def being_written(path: Path) -> bool:
    """Whether a :class:`ZipStreamWriter` (of any process) is writing ``path`` now."""
    try:
        with path.open("rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except FileNotFoundError:
        return False
    return False


class ZipStreamWriter:
    """``with ZipStreamWriter(path, moment) as archive: archive.add_bytes(...); archive.add_file(...)``."""

    def __init__(self, path: Path, moment: datetime) -> None:
        # The archive holds every patient's data: readable by this user only, from its first byte.
        self._out: BinaryIO = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        # Held until the file is closed, or its process dies: another process tells a file being written from the
        # leftover of an interrupted one (:func:`being_written`).
        fcntl.flock(self._out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._central: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._time, self._date = _dos_time(moment)
        self._count = 0
        self._offset = 0

    def __enter__(self) -> ZipStreamWriter:
        return self

    def __exit__(self, kind: object, *_rest: object) -> None:
        if kind is None:
            self.close()
        else:
            self._out.close()
            self._central.close()

    # --- entries ----------------------------------------------------------------------------------------

    def add_bytes(self, name: str, data: bytes, *, compress: bool = True) -> Written:
        sha = hashlib.sha256(data).hexdigest()
        crc = zlib.crc32(data)
        if compress:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            stored = packer.compress(data) + packer.flush()
            method = _DEFLATED
        else:
            stored, method = data, _STORED
        self._entry(name, method, crc, len(stored), len(data), iter((stored,)))
        return Written(name, len(data), sha)

    def add_file(self, name: str, source: BinaryIO) -> Written:
        """A file (a temporary archive) stored as it is: read once for its size, CRC and SHA-256, then copied."""
        source.seek(0)
        crc, size, sha = 0, 0, hashlib.sha256()
        while chunk := source.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            sha.update(chunk)
        source.seek(0)
        self._entry(name, _STORED, crc, size, size, iter(lambda: source.read(_CHUNK), b""))
        return Written(name, size, sha.hexdigest())

    def _entry(self, name: str, method: int, crc: int, stored: int, size: int, chunks: Iterator[bytes]) -> None:
        # No check for a name written twice: a set of names would grow with the patients, the exporter numbers its
        # archives, and an import refuses an archive with a name twice (safezip).
        encoded = name.encode("utf-8")
        offset = self._offset
        big = stored >= _MAX32 or size >= _MAX32
        local_extra = struct.pack("<HHQQ", 1, 16, size, stored) if big else b""
        header = struct.pack(
            "<IHHHHHIIIHH",
            _LOCAL,
            45 if big else 20,
            _UTF8,
            method,
            self._time,
            self._date,
            crc,
            _MAX32 if big else stored,
            _MAX32 if big else size,
            len(encoded),
            len(local_extra),
        )
        self._write(header + encoded + local_extra)
        for chunk in chunks:
            self._write(chunk)
        self._central_record(encoded, method, crc, stored, size, offset)
        self._count += 1

    def _central_record(self, encoded: bytes, method: int, crc: int, stored: int, size: int, offset: int) -> None:
        fields: list[int] = []  # the zip64 extra holds exactly the fields that overflow, in this order
        if size >= _MAX32:
            fields.append(size)
        if stored >= _MAX32:
            fields.append(stored)
        if offset >= _MAX32:
            fields.append(offset)
        extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
        record = struct.pack(
            "<IHHHHHHIIIHHHHHII",
            _CENTRAL,
            (3 << 8) | 45,
            45 if fields else 20,
            _UTF8,
            method,
            self._time,
            self._date,
            crc,
            _MAX32 if stored >= _MAX32 else stored,
            _MAX32 if size >= _MAX32 else size,
            len(encoded),
            len(extra),
            0,
            0,
            0,
            0o644 << 16,
            _MAX32 if offset >= _MAX32 else offset,
        )
        self._central.write(record + encoded + extra)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)

    # --- end --------------------------------------------------------------------------------------------

    def close(self) -> None:
        start = self._offset
        self._central.seek(0)
        shutil.copyfileobj(self._central, self._out, _CHUNK)
        self._central.close()
        length = self._out.tell() - start
        self._offset += length
        if self._count >= _MAX16 or start >= _MAX32 or length >= _MAX32:
            end64 = self._offset
            self._write(
                struct.pack("<IQHHIIQQQQ", _END64, 44, (3 << 8) | 45, 45, 0, 0, self._count, self._count, length, start)
            )
            self._write(struct.pack("<IIQI", _LOCATOR64, 0, end64, 1))
        self._write(
            struct.pack(
                "<IHHHHIIH",
                _END,
                0,
                0,
                min(self._count, _MAX16),
                min(self._count, _MAX16),
                min(length, _MAX32),
                min(start, _MAX32),
                0,
            )
        )
        self._out.close()
