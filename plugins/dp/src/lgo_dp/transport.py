"""The transport to the Dossier Pharmaceutique: a protocol, with swappable drivers.

The DP specification (Palier 2.3 of the Ordre des pharmaciens) is not public: a vendor who holds it writes a driver
(stevedore entry point in ``lgo.providers.dp``) that passes :class:`lgo_dp.testing.DpTransportContract`; the rest of
the plugin never changes. What the project assumes about the service is in ``docs/decisions/1100-dp-transport.md``.
The ``json`` driver talks the project's assumed interface, JSON over HTTPS with the pharmacy's certificate, to the
DP sandbox (``lgo_sandbox.dp``); it is never chosen by default.

Every call names the patient by the qualified INS and its traits (:class:`DpPatient`) — the DP is reached without the
carte Vitale since Palier 2.3 — and, except for feeding, the professional at the counter (:class:`Professional`), whom
the DP traces. Writes carry an idempotency key: a retried write after a lost answer is recorded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from lgo.api import InsTraits, LabelledEnum, LgoError


class DpUnavailable(LgoError):
    """The DP could not be reached or answered with a fault: retry later; the counter goes on without it."""


class DpRefused(LgoError):
    """The DP refused the request. ``code`` says why, in the words of :class:`Refusal`."""

    def __init__(self, message_fr: str, *, code: str = "", detail: str = "") -> None:
        super().__init__(message_fr, detail=detail or code)
        self.code = code


class Refusal(StrEnum):
    """Why the DP refuses (``DpRefused.code``)."""

    NO_FILE = "dossier_absent"
    REFUSED = "refus"
    CLOSED = "ferme"
    TRAITS = "traits"
    REQUEST = "requete"
    FORBIDDEN = "interdit"


class FileState(LabelledEnum):
    """The state of a patient's DP, as the DP knows it."""

    NONE = "absent", "pas de DP"
    ACTIVE = "actif", "DP ouvert"
    REFUSED = "refus", "création refusée par le patient"
    CLOSED = "ferme", "DP fermé à la demande du patient"


@dataclass(frozen=True)
class DpPatient(InsTraits):
    """The patient as the DP knows them: the qualified INS (matricule with its key, OID) and the INS traits
    (``DpPatient.of(kernel.shareable_identity(...))``)."""


@dataclass(frozen=True)
class Professional:
    """The person at the counter, traced by the DP for every consultation and consent operation."""

    name: str
    role: str
    rpps: str | None = None


@dataclass(frozen=True)
class DpFile:
    state: FileState
    created_on: date | None = None
    refused_on: date | None = None
    closed_on: date | None = None


@dataclass(frozen=True)
class DispensedLine:
    """One line this pharmacy sends: the product, quantity and lot dispensed on a date.

    ``reference`` is the pharmacy's own stable identifier of the line (the same on every retry); a correction carries
    the reference of the line it replaces in ``replaces``."""

    reference: str
    dispensed_on: date
    cip13: str
    label: str
    quantity: int
    lot: str | None = None
    replaces: str | None = None


@dataclass(frozen=True)
class DpLine:
    """One line of the history the DP returns, with the pharmacy that dispensed it (FINESS and name)."""

    reference: str
    dispensed_on: date
    cip13: str
    label: str
    quantity: int
    lot: str | None
    pharmacy_finess: str
    pharmacy_name: str


class BulletinKind(LabelledEnum):
    RECALL = "rappel", "Rappel de lots (DP-Rappels)"
    ALERT = "alerte", "Alerte sanitaire (DP-Alertes)"


@dataclass(frozen=True)
class BulletinProduct:
    """A product a bulletin is about, by CIP13; ``lots`` empty means every lot of it."""

    cip13: str
    label: str = ""
    lots: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bulletin:
    """A DP-Rappels batch recall or a DP-Alertes health alert, as published to the pharmacies."""

    id: str
    kind: BulletinKind
    title: str
    message: str
    issuer: str
    published_at: datetime
    products: tuple[BulletinProduct, ...] = ()


@runtime_checkable
class DpTransport(Protocol):
    def file(self, patient: DpPatient, professional: Professional) -> DpFile:
        """The state of the patient's DP."""

    def create(self, patient: DpPatient, professional: Professional, *, idempotency_key: str) -> DpFile:
        """Create the patient's DP (the patient agreed); creating an existing DP returns it."""

    def refuse(
        self, patient: DpPatient, professional: Professional, refused_on: date, *, idempotency_key: str
    ) -> DpFile:
        """Record the patient's refusal of a DP (valid ten years): no line is recorded meanwhile."""

    def close(self, patient: DpPatient, professional: Professional, *, idempotency_key: str) -> DpFile:
        """Close the patient's DP at their request."""

    def feed(self, patient: DpPatient, lines: Sequence[DispensedLine], *, idempotency_key: str) -> None:
        """Record dispensed lines (a line whose ``replaces`` is set corrects an earlier one). Raises
        :class:`DpRefused` with code ``dossier_absent``, ``refus`` or ``ferme`` when the patient has no open DP."""

    def mask(
        self, patient: DpPatient, professional: Professional, references: Sequence[str], *, idempotency_key: str
    ) -> None:
        """Mask lines at the patient's request: they are no longer shown in consultations."""

    def history(self, patient: DpPatient, professional: Professional, since: date) -> list[DpLine]:
        """The lines dispensed since ``since`` (at most the last 12 months) by every pharmacy, masked lines left out."""

    def bulletins(self, after: str | None) -> tuple[list[Bulletin], str | None]:
        """The recalls and alerts published after the cursor ``after`` (all when None), and the new cursor."""

    def acknowledge(self, bulletin_id: str, professional: Professional, at: datetime, *, idempotency_key: str) -> None:
        """Tell the DP that the pharmacy read the bulletin (who and when)."""
