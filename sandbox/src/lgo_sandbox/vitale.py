"""A virtual carte Vitale behind pcscd: a private ``pcscd`` with the vsmartcard ``vpcd`` reader, and a card.

The card speaks the ``vpcd`` socket protocol itself (what ``vicc`` does: 2-byte big-endian length, then a 1-byte
control message — 0 power off, 1 power on, 2 reset, 4 ATR — or a command APDU): writing the few lines here lets a
test insert, remove or swap the card at will, without the vsmartcard Python package. The card layout is the
project's own (the SESAM-Vitale one is not public, see docs/decisions): application ``F0 4C 47 4F 56 49 54 41 4C
45`` ("LGOVITALE"), one elementary file ``2F01`` read with READ BINARY, holding simple TLV (tag byte, length byte,
``81 nn`` or ``82 nn nn``):

* ``60`` card → ``41`` card serial, ``42`` holder NIR (ouvrant droit, 15 digits), repeated ``61`` beneficiary →
  ``50`` beneficiary NIR (15, optional), ``51`` birth name, ``52`` first name, ``53`` birth date ``YYYYMMDD``,
  ``54`` birth rank (1..9), ``55`` used name (optional).

Only fictional people: the tests use the shared INSi test identities.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

AID = bytes.fromhex("F04C474F564954414C45")
EF_ID = bytes.fromhex("2F01")
ATR_VITALE = bytes.fromhex("3B6500002063CB6600")
ATR_OTHER = bytes.fromhex("3B8880010000000000000000F0")
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
PCSCD_SOCKET = "/run/pcscd/pcscd.comm"
# pcscd looks for card changes every 400 ms (PCSCLITE_STATUS_POLL_RATE): a card put in sooner after the last one
# left is never seen, as a person swapping cards by hand never is.
CARD_SWAP = 0.5


@dataclass(frozen=True)
class Beneficiary:
    birth_name: str
    first_name: str
    birth_date: str  # YYYYMMDD (a "lunar" date such as 19800031 is allowed)
    rank: int
    nir: str = ""
    used_name: str = ""


@dataclass(frozen=True)
class VitaleData:
    holder_nir: str
    beneficiaries: tuple[Beneficiary, ...]
    serial: str = "0000000001"


def _tlv(tag: int, value: bytes) -> bytes:
    size = len(value)
    length = (
        bytes([size])
        if size < 0x80
        else bytes([0x81, size])
        if size < 0x100
        else bytes([0x82]) + size.to_bytes(2, "big")
    )
    return bytes([tag]) + length + value


def encode(data: VitaleData) -> bytes:
    """The content of EF 2F01."""
    body = _tlv(0x41, data.serial.encode()) + _tlv(0x42, data.holder_nir.encode())
    for person in data.beneficiaries:
        fields = b""
        if person.nir:
            fields += _tlv(0x50, person.nir.encode())
        fields += _tlv(0x51, person.birth_name.encode()) + _tlv(0x52, person.first_name.encode())
        fields += _tlv(0x53, person.birth_date.encode()) + _tlv(0x54, bytes([person.rank]))
        if person.used_name:
            fields += _tlv(0x55, person.used_name.encode())
        body += _tlv(0x61, fields)
    return _tlv(0x60, body)


@dataclass
class VirtualCard:
    """One card: a Vitale (``data``) or, with ``data=None``, an unknown card that has no Vitale application.
    ``remove_after_reads`` pulls the card out after that many READ BINARY commands (card removed mid-read)."""

    data: VitaleData | None
    remove_after_reads: int | None = None
    reads: int = 0
    _selected: str = field(default="", repr=False)

    @property
    def atr(self) -> bytes:
        return ATR_VITALE if self.data is not None else ATR_OTHER

    def answer(self, apdu: bytes) -> bytes | None:
        """The response APDU, or ``None`` when the card is pulled out now."""
        if len(apdu) < 4:
            return b"\x67\x00"
        _cla, ins, p1, p2 = apdu[:4]
        if ins == 0xA4:
            payload = apdu[5 : 5 + apdu[4]] if len(apdu) > 4 else b""
            if p1 == 0x04 and payload == AID and self.data is not None:
                self._selected = "app"
                return b"\x90\x00"
            if p1 in (0x00, 0x02) and payload == EF_ID and self._selected in ("app", "ef"):
                self._selected = "ef"
                return b"\x90\x00"
            return b"\x6a\x82"
        if ins == 0xB0:
            if self._selected != "ef" or self.data is None:
                return b"\x69\x86"
            self.reads += 1
            if self.remove_after_reads is not None and self.reads > self.remove_after_reads:
                return None
            content = encode(self.data)
            offset = (p1 << 8) | p2
            wanted = apdu[4] if len(apdu) > 4 else 0
            wanted = wanted or 256
            if offset > len(content):
                return b"\x6b\x00"
            chunk = content[offset : offset + wanted]
            return chunk + (b"\x90\x00" if len(chunk) == wanted or offset + wanted >= len(content) else b"\x62\x82")
        return b"\x6d\x00"


class VirtualReader:
    """A private ``pcscd`` whose only reader is a ``vpcd`` on a free port, and the card currently inserted."""

    def __init__(self, directory: Path | None = None) -> None:
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="lgo-pcscd-"))
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._card_thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._stop = threading.Event()
        self._powered = threading.Event()
        self._removed_at = 0.0

    @staticmethod
    def missing() -> str | None:
        """Why a virtual reader cannot run here (``None`` when it can)."""
        if shutil.which("pcscd") is None:
            return "pcscd absent (paquet Debian « pcscd »)"
        if not os.path.exists(VPCD_DRIVER):
            return "lecteur virtuel absent (paquet Debian « vsmartcard-vpcd »)"
        return None

    def start(self, timeout: float = 15.0) -> VirtualReader:
        conf = self.directory / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:{self.port}\n'
            f"LIBPATH      {VPCD_DRIVER}\nCHANNELID    {self.port}\n"
        )
        deadline = time.monotonic() + timeout
        log = (self.directory / "pcscd.log").open("wb")
        while True:
            # One pcscd per machine (its socket path is fixed): wait while another test run holds it.
            self._process = subprocess.Popen(
                ["pcscd", "--foreground", "--config", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._wait_listening(deadline):
                return self
            if self._process.poll() is None or time.monotonic() > deadline:
                log.close()
                output = (self.directory / "pcscd.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"pcscd did not start within {timeout}s: {output}")
            time.sleep(0.5)

    def _wait_listening(self, deadline: float) -> bool:
        assert self._process is not None
        while time.monotonic() < deadline and self._process.poll() is None:
            # Not a probe connection: vpcd would take it for a card. The kernel's table tells when it listens.
            if _listening(self.port) and os.path.exists(PCSCD_SOCKET):
                return True
            time.sleep(0.1)
        return False

    def insert(self, card: VirtualCard, timeout: float = 10.0) -> None:
        """Put ``card`` in the reader (removing the current one); returns once pcscd shows it present."""
        self.remove()
        time.sleep(max(0.0, self._removed_at + CARD_SWAP - time.monotonic()))
        self._stop = threading.Event()
        self._powered = threading.Event()
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.settimeout(0.5)
        self._socket = sock
        self._card_thread = threading.Thread(target=self._serve, args=(sock, card, self._stop), daemon=True)
        self._card_thread.start()
        deadline = time.monotonic() + timeout
        if not self._powered.wait(timeout):
            raise RuntimeError("pcscd did not power the virtual card up")
        self._wait_present(card.atr, deadline)

    @staticmethod
    def _wait_present(atr: bytes, deadline: float) -> None:
        """Until pcscd shows the reader holding a card with ``atr``: it publishes the state after the power-up,
        and a connection attempted in between is refused as "no card" (a fixed pause was not enough under load)."""
        from smartcard import scard  # the reading side's library: whoever inserts a card reads it with pyscard

        _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        try:
            _, readers = scard.SCardListReaders(context, [])
            states = [(name, scard.SCARD_STATE_UNAWARE) for name in readers if name.startswith("Virtual PCD")]
            current: list[tuple[str, int, list[int]]] = []
            while time.monotonic() < deadline:
                _, current = scard.SCardGetStatusChange(context, 100, states)
                for _name, state, card_atr in current:
                    # pyscard pads the ATR of a state handed back to it: compare its beginning.
                    if state & scard.SCARD_STATE_PRESENT and bytes(card_atr).startswith(atr):
                        return
                states = [(name, state) for name, state, _atr in current]
            raise RuntimeError(f"pcscd did not show the virtual card {atr.hex()} as present: {current}")
        finally:
            scard.SCardReleaseContext(context)

    def remove(self) -> None:
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None
            self._removed_at = time.monotonic()
        if self._card_thread is not None:
            self._card_thread.join(timeout=5)
            self._card_thread = None

    def _serve(self, sock: socket.socket, card: VirtualCard, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    header = _recv_exact(sock, 2, stop)
                    (size,) = struct.unpack("!H", header)
                    message = _recv_exact(sock, size, stop) if size else b""
                except (OSError, EOFError):
                    return
                if size == 1:
                    if message == b"\x04":
                        sock.sendall(struct.pack("!H", len(card.atr)) + card.atr)
                        self._powered.set()
                    continue
                answer = card.answer(message)
                if answer is None:
                    self._removed_at = time.monotonic()
                    sock.close()
                    return
                sock.sendall(struct.pack("!H", len(answer)) + answer)
        except OSError:
            return

    def stop(self) -> None:
        self.remove()
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


def _recv_exact(sock: socket.socket, size: int, stop: threading.Event) -> bytes:
    data = b""
    while len(data) < size:
        if stop.is_set():
            raise EOFError
        try:
            chunk = sock.recv(size - len(data))
        except TimeoutError:
            continue
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _listening(port: int) -> bool:
    wanted = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(wanted in line.split(None, 2)[1] + " " and line.split()[3] == "0A" for line in lines):
            return True
    return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
