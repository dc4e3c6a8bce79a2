"""The carte Vitale through PC/SC (pyscard): the beneficiaries it carries, for patient selection and INSi.

The layout read here is the project's own (docs/decisions/0821): application ``F04C474F564954414C45``, elementary
file ``2F01`` in simple TLV. Every reader problem (no PC/SC service, no reader, no card, card removed during the
read, a card that is not a Vitale) becomes a :class:`~lgo_cards.errors.CardError` with a French message: the
counter shows it and goes on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from lgo_cards.errors import CardAbsent, CardError, CardModuleUnavailable, UnknownCard

AID = bytes.fromhex("F04C474F564954414C45")
EF_ID = bytes.fromhex("2F01")


@dataclass(frozen=True)
class Beneficiary:
    """One person on the card: what patient selection and INSi ``rechercherInsAvecCarteVitale`` need."""

    birth_name: str
    first_name: str
    birth_date: str  # YYYY-MM-DD, as on the card (a lunar day or month is kept)
    rank: int
    nir: str = ""  # the beneficiary's own NIR when the card carries it
    used_name: str = ""


@dataclass(frozen=True)
class VitaleCard:
    serial: str
    holder_nir: str  # the ouvrant droit: INSi searches with it, the birth date and the rank
    beneficiaries: tuple[Beneficiary, ...]


def parse_tlv(data: bytes) -> list[tuple[int, bytes]]:
    """Simple TLV: one tag byte, a length byte (``81 nn``, ``82 nn nn`` for longer); truncation is an error."""
    items: list[tuple[int, bytes]] = []
    index = 0
    while index < len(data):
        if index + 2 > len(data):
            raise ValueError("truncated TLV header")
        tag, length = data[index], data[index + 1]
        index += 2
        if length == 0x81:
            if index >= len(data):
                raise ValueError("truncated TLV length")
            length = data[index]
            index += 1
        elif length == 0x82:
            if index + 2 > len(data):
                raise ValueError("truncated TLV length")
            length = int.from_bytes(data[index : index + 2], "big")
            index += 2
        elif length > 0x80:
            raise ValueError(f"unsupported TLV length form {length:#x}")
        if index + length > len(data):
            raise ValueError("truncated TLV value")
        items.append((tag, data[index : index + length]))
        index += length
    return items


def _date(raw: str) -> str:
    if len(raw) != 8 or not raw.isdigit():
        raise ValueError(f"bad birth date {raw!r}")
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"


def decode(content: bytes) -> VitaleCard:
    """The card from the content of EF 2F01 (raises ``ValueError`` when it is not that layout)."""
    (card_tag, card), *_rest = parse_tlv(content) or [(0, b"")]
    if card_tag != 0x60:
        raise ValueError("not a Vitale record")
    serial, holder = "", ""
    people = []
    for tag, value in parse_tlv(card):
        if tag == 0x41:
            serial = value.decode("ascii")
        elif tag == 0x42:
            holder = value.decode("ascii")
        elif tag == 0x61:
            fields = dict(parse_tlv(value))
            people.append(
                Beneficiary(
                    birth_name=fields.get(0x51, b"").decode("utf-8"),
                    first_name=fields.get(0x52, b"").decode("utf-8"),
                    birth_date=_date(fields.get(0x53, b"").decode("ascii")),
                    rank=(fields.get(0x54) or b"\x01")[0],
                    nir=fields.get(0x50, b"").decode("ascii"),
                    used_name=fields.get(0x55, b"").decode("utf-8"),
                )
            )
    if len(holder) != 15 or not people:
        raise ValueError("Vitale record without holder NIR or beneficiary")
    return VitaleCard(serial, holder, tuple(people))


_REMOVED = (
    "removed",
    "retir",
    "0x80100069",
    "0x80100017",
    "0x8010001D",
    "no smart card",
    "not available",
    "reset",
    "unresponsive",
    "0x80100066",
    "0x80100068",
)


def _removed(exc: Exception) -> CardAbsent:
    return CardAbsent(
        "La carte Vitale a été retirée pendant la lecture : réinsérez-la et recommencez.",
        detail=f"{type(exc).__name__}: {exc}",
    )


def _transmit(connection: Any, apdu: bytes) -> tuple[bytes, int]:
    try:
        data, sw1, sw2 = connection.transmit(list(apdu))
    except Exception as exc:  # pyscard raises CardConnectionException for every transport failure
        raise _removed(exc) from exc
    return bytes(data), (sw1 << 8) | sw2


def _readers(reader_prefix: str) -> list[Any]:
    try:
        from smartcard.System import readers
    except ImportError as exc:  # pragma: no cover - dependency of the distribution
        raise CardModuleUnavailable("La bibliothèque pyscard n'est pas installée.", detail=repr(exc)) from exc
    try:
        found = list(readers())
    except Exception as exc:
        raise CardModuleUnavailable(
            "Le service des lecteurs de cartes (PC/SC, pcscd) ne répond pas : vérifiez qu'il est installé et démarré.",
            detail=repr(exc),
        ) from exc
    found = [r for r in found if str(r).startswith(reader_prefix)]
    if not found:
        raise CardAbsent(
            "Aucun lecteur de carte n'est branché"
            + (f" (« {reader_prefix} »)" if reader_prefix else "")
            + " : branchez le lecteur et recommencez.",
            detail=f"prefix={reader_prefix!r}",
        )
    return found


def _connect(reader_prefix: str) -> Any:
    last: Exception | None = None
    for reader in _readers(reader_prefix):
        connection = reader.createConnection()
        try:
            connection.connect()
            return connection
        except Exception as exc:  # NoCardException, CardConnectionException: try the next reader
            last = exc
            _release(connection)
    raise CardAbsent("Aucune carte Vitale dans le lecteur : insérez la carte et recommencez.", detail=repr(last))


def read_vitale(reader_prefix: str = "") -> VitaleCard:
    """Read the carte Vitale in the first reader (whose name starts with ``reader_prefix``) holding a card."""
    connection = _connect(reader_prefix)
    try:
        _data, status = _transmit(connection, bytes([0x00, 0xA4, 0x04, 0x00, len(AID)]) + AID)
        if status != 0x9000:
            raise UnknownCard(
                "La carte insérée n'est pas une carte Vitale (ou elle est illisible) : vérifiez la carte.",
                detail=f"SELECT AID: {status:04X}",
            )
        _data, status = _transmit(connection, bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + EF_ID)
        if status != 0x9000:
            raise UnknownCard(
                "La carte Vitale ne contient pas de bénéficiaires lisibles.", detail=f"SELECT EF: {status:04X}"
            )
        content = b""
        while True:
            chunk, status = _transmit(connection, bytes([0x00, 0xB0, len(content) >> 8, len(content) & 0xFF, 0]))
            if status not in (0x9000, 0x6282):
                raise CardError(
                    "La carte Vitale n'a pas pu être lue : retirez-la, réinsérez-la et recommencez.",
                    detail=f"READ BINARY at {len(content)}: {status:04X}",
                )
            content += chunk
            if status == 0x6282 or len(chunk) < 256:
                break
        try:
            return decode(content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UnknownCard(
                "Les données de la carte Vitale sont illisibles : la carte est peut-être abîmée.", detail=repr(exc)
            ) from exc
    finally:
        _release(connection)


def _release(connection: Any) -> None:
    """Disconnect and give the PC/SC context back now: left to the garbage collector, pyscard releases it whenever,
    maybe once pcscd is gone, and prints a traceback on the way out."""
    with contextlib.suppress(Exception):  # a removed card cannot be disconnected cleanly; nothing to do
        connection.release()
