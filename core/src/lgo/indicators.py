"""The REMU NUM indicators: where the pharmacy stands, month by month, on the digital indicators it is paid on.

The kernel holds the convention's catalogue (:data:`CATALOGUE`: each indicator's code, French definition and
threshold by year, decision 1502); the plugins that own the data measure them (hook ``lgo_register_indicators``,
an :class:`IndicatorSource` per indicator: a count over a period and the list of the misses). An indicator whose
module is installed but not active in the pharmacy says so, as does one that no installed module measures; the
kernel never names a plugin.

Periods are calendar months in Paris time; a year's rate is the sum of its months' numerators over the sum of their
denominators (never an average of monthly rates). Months after the current one are « à venir ».
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from lgo.local_time import PARIS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lgo.kernel import Kernel

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


@dataclass(frozen=True)
class IndicatorDefinition:
    """One indicator of the convention, as the kernel describes it."""

    code: str
    label_fr: str
    definition_fr: str
    #: Threshold in percent by year; years absent have none (the indicator does not apply).
    thresholds: Mapping[int, float]
    #: Default threshold for a year not listed (None: not applicable).
    default_threshold: float | None
    #: What measures it, in words (never a plugin's name): « le module d'ordonnance numérique ».
    measured_by_fr: str
    #: True when the rate must be strictly above the threshold (« supérieur à 5 % »).
    strictly_above: bool = False

    def threshold(self, year: int) -> float | None:
        return self.thresholds.get(year, self.default_threshold)


#: The convention's digital indicators this LGO follows (decision 1502).
CATALOGUE: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        "ordonnance_numerique",
        "Ordonnance numérique (socle)",
        "Part des délivrances sur ordonnance (factures portant une ordonnance) faites sur une ordonnance numérique "
        "exécutée ; toutes les ordonnances sont tenues pour des prescriptions de ville.",
        {},
        70.0,
        "le module d'ordonnance numérique",
    ),
    IndicatorDefinition(
        "dmp_accompagnements",
        "Accompagnements et bilans versés au DMP",
        "Part des comptes rendus d'entretien et des bilans partagés de médication validés (version en vigueur) "
        "envoyés au DMP (accusé d'enregistrement reçu).",
        {},
        90.0,
        "le module DMP",
    ),
    IndicatorDefinition(
        "mssante_echanges",
        "Délivrances avec échange MSSanté",
        "Part des délivrances à un patient (factures avec patient) suivies ou précédées, à 7 jours près, d'un "
        "message MSSanté envoyé ou reçu pour ce patient (professionnels ou Mon espace santé).",
        {},
        5.0,
        "le module MSSanté",
    ),
    IndicatorDefinition(
        "fse",
        "Taux de FSE SESAM-Vitale",
        "Part des factures à l'Assurance Maladie transmises en feuilles de soins électroniques SESAM-Vitale "
        "(0,064 € par FSE sous 95 %, 0,07 € à partir de 95 %).",
        {},
        95.0,
        "un module de télétransmission SESAM-Vitale",
    ),
    IndicatorDefinition(
        "vaccination_rva",
        "Vaccinations prescrites par le pharmacien (RVA à 9,60 €)",
        "Part des actes RVA facturés 9,60 € (prescription et injection par le pharmacien) parmi tous les actes RVA "
        "(9,60 € et 7,50 €) ; 3 € de plus par acte à 9,60 € au-delà du seuil (5 % en 2024, 15 % en 2025, 25 % en "
        "2026 ; supprimé le 1er avril 2027).",
        {2024: 5.0, 2025: 15.0, 2026: 25.0},
        None,
        "le module de vaccination",
        strictly_above=True,
    ),
)
BY_CODE = {definition.code: definition for definition in CATALOGUE}


@dataclass(frozen=True)
class Tally:
    numerator: int
    denominator: int

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.numerator + other.numerator, self.denominator + other.denominator)

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else 100.0 * self.numerator / self.denominator


@dataclass(frozen=True)
class Miss:
    """One case that counts against the indicator: what, when, for whom, why (French)."""

    at: datetime
    reference_fr: str
    reason_fr: str
    patient_id: int | None = None
    patient_fr: str = ""


#: ``count(session, pharmacy_id, start, end)``: the tally over ``[start, end)`` (UTC instants).
Count = Callable[["Session", int, datetime, datetime], Tally]
#: ``misses(session, pharmacy_id, start, end, limit)``: the cases that count against it, oldest first.
Misses = Callable[["Session", int, datetime, datetime, int], list[Miss]]


@dataclass(frozen=True)
class IndicatorSource:
    """What a plugin returns from ``lgo_register_indicators``: how it measures the indicator ``code``."""

    code: str
    count: Count
    misses: Misses


def counted_invoices(pharmacy_id: int, start: datetime, end: datetime) -> tuple[Any, ...]:
    """The conditions on ``Invoice`` of the invoices an indicator counts over ``[start, end)``: validated in the
    period, neither cancelled nor a cancellation (decision 1502). For ``select(...).where(*counted_invoices(...))``."""
    from sqlalchemy import and_, exists
    from sqlalchemy.orm import aliased

    from lgo.domain.billing import Invoice

    cancelling = aliased(Invoice)
    return (
        Invoice.pharmacy_id == pharmacy_id,
        Invoice.validated_at >= start,
        Invoice.validated_at < end,
        Invoice.cancels_id.is_(None),
        ~exists().where(and_(cancelling.cancels_id == Invoice.id, cancelling.pharmacy_id == pharmacy_id)),
    )


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None  # None: the whole year

    @property
    def label_fr(self) -> str:
        return str(self.year) if self.month is None else f"{MONTHS_FR[self.month - 1]} {self.year}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The period's first instant and the next period's, as UTC instants of Paris local time."""
        if self.month is None:
            start, end = datetime(self.year, 1, 1, tzinfo=PARIS), datetime(self.year + 1, 1, 1, tzinfo=PARIS)
        else:
            start = datetime(self.year, self.month, 1, tzinfo=PARIS)
            end = datetime(self.year + (self.month == 12), self.month % 12 + 1, 1, tzinfo=PARIS)
        return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class Measure:
    period: Period
    tally: Tally | None  # None: not measured (module off, or a month to come)
    status: str
    status_fr: str


@dataclass
class IndicatorReport:
    definition: IndicatorDefinition
    year: int
    threshold: float | None
    #: "measured", "inactive" (its module is off in the pharmacy) or "unavailable" (no module measures it).
    state: str
    state_fr: str
    months: list[Measure] = field(default_factory=list)
    total: Measure | None = None


def status_of(definition: IndicatorDefinition, threshold: float | None, tally: Tally) -> tuple[str, str]:
    rate = tally.rate
    if rate is None:
        return "empty", "aucune donnée"
    if threshold is None:
        return "no_threshold", "pas de seuil cette année"
    reached = rate > threshold if definition.strictly_above else rate >= threshold
    return ("reached", "atteint") if reached else ("missed", "non atteint")


class Indicators:
    """The indicators of one pharmacy (``kernel.indicators(pharmacy_id)``)."""

    def __init__(self, kernel: Kernel, pharmacy_id: int) -> None:
        self.kernel = kernel
        self.pharmacy_id = pharmacy_id

    def _source(self, code: str) -> tuple[str | None, IndicatorSource | None, str]:
        """``(plugin, source, state)``: the plugin that measures ``code`` and whether it is active here."""
        found = self.kernel.indicator_sources.get(code)
        if found is None:
            return None, None, "unavailable"
        plugin, source = found
        return plugin, source, "measured" if self.kernel.is_active(self.pharmacy_id, plugin) else "inactive"

    def report(
        self, year: int, *, today: date | None = None, codes: Iterable[str] | None = None
    ) -> list[IndicatorReport]:
        today = today or datetime.now(PARIS).date()
        wanted = list(codes) if codes is not None else [d.code for d in CATALOGUE]
        return [self._report(BY_CODE[code], year, today) for code in wanted]

    def _report(self, definition: IndicatorDefinition, year: int, today: date) -> IndicatorReport:
        plugin, source, state = self._source(definition.code)
        threshold = definition.threshold(year)
        if state == "unavailable":
            state_fr = f"Non mesuré : aucun module installé ne le mesure ({definition.measured_by_fr})."
        elif state == "inactive":
            label = self.kernel.registry.manifest(plugin or "").label_fr or plugin
            state_fr = f"Non mesuré : le module « {label} » n'est pas actif dans l'officine."
        else:
            state_fr = ""
        report = IndicatorReport(definition, year, threshold, state, state_fr)
        last_month = 12 if year < today.year else (today.month if year == today.year else 0)
        total = Tally(0, 0)
        with self.kernel.reading() as session:
            for month in range(1, 13):
                period = Period(year, month)
                if month > last_month:
                    report.months.append(Measure(period, None, "future", "à venir"))
                    continue
                if source is None or state != "measured":
                    report.months.append(Measure(period, None, "off", "non mesuré"))
                    continue
                tally = source.count(session, self.pharmacy_id, *period.bounds())
                total = total + tally
                report.months.append(Measure(period, tally, *status_of(definition, threshold, tally)))
        if state == "measured":
            report.total = Measure(Period(year, None), total, *status_of(definition, threshold, total))
        else:
            report.total = Measure(Period(year, None), None, "off", "non mesuré")
        return report

    def misses(self, code: str, period: Period, *, limit: int = 500) -> list[Miss]:
        _plugin, source, state = self._source(code)
        if source is None or state != "measured":
            return []
        with self.kernel.reading() as session:
            return source.misses(session, self.pharmacy_id, *period.bounds(), limit)


# --- display and CSV ---------------------------------------------------------------------------------------


def percent_fr(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %".replace(".", ",")


def csv_rows(reports: Sequence[IndicatorReport]) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["indicateur", "code", "periode", "numerateur", "denominateur", "taux_pct", "seuil_pct", "statut"]
    ]
    for report in reports:
        for measure in [*report.months, *([report.total] if report.total else [])]:
            tally = measure.tally
            rows.append(
                [
                    report.definition.label_fr,
                    report.definition.code,
                    measure.period.label_fr,
                    "" if tally is None else tally.numerator,
                    "" if tally is None else tally.denominator,
                    "" if tally is None or tally.rate is None else f"{tally.rate:.2f}",
                    "" if report.threshold is None else f"{report.threshold:g}",
                    measure.status_fr if report.state == "measured" else report.state_fr,
                ]
            )
    return rows


def misses_rows(misses: Sequence[Miss]) -> list[list[Any]]:
    from lgo.local_time import datetime_fr

    rows: list[list[Any]] = [["date_heure_paris", "objet", "patient_id", "patient", "raison"]]
    rows += [[datetime_fr(m.at), m.reference_fr, m.patient_id or "", m.patient_fr, m.reason_fr] for m in misses]
    return rows


def to_csv(rows: Sequence[Sequence[Any]]) -> bytes:
    from lgo.portability.archive_parts import csv_line

    return b"".join(csv_line(row) for row in rows)


def parse_period(text: str | None, *, today: date | None = None) -> Period:
    """``2026`` or ``2026-03`` (French error otherwise); the current year when empty."""
    from lgo.errors import ValidationError

    today = today or datetime.now(PARIS).date()
    if not text:
        return Period(today.year, None)
    try:
        if "-" in text:
            year_text, month_text = text.split("-", 1)
            month = int(month_text)
            if not 1 <= month <= 12:
                raise ValueError(text)
            return Period(int(year_text), month)
        return Period(int(text), None)
    except ValueError as exc:
        raise ValidationError(
            f"Période invalide : « {text} » (AAAA ou AAAA-MM attendu).", detail=f"period {text!r}"
        ) from exc
