"""Finding a patient at the counter from what the pharmacist types: names, a birth date, a NIR.

Names are matched word by word on their beginning, without accents or case (« dupont jea », « hélène » finds
HÉLÈNE). Every word of the birth name, used name, first names and used first name is kept, normalised, in
``patient_search_term``, written by mapper events whenever a patient is created or its names change, so that no
caller can forget it. The index ``(pharmacy_id, term, sort_key)`` answers a word's beginning in index order: a
search reads about ``limit`` rows whether the pharmacy has 300 patients or 300 000. Birth dates and the carte Vitale
NIR are searched through indexes of ``patient`` that start with ``pharmacy_id``.

Identifiers owned by plugins (the INS matricule of the ``ins`` plugin) are not the kernel's to read: a caller passes
``identifier_lookups`` (functions ``(session, pharmacy_id, identifier) -> patient ids``) that the kernel merges with
its own NIR matches — see ``docs/decisions/0013-recherche-de-patients.md`` for the hook that will collect them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    ForeignKey,
    Index,
    String,
    and_,
    bindparam,
    delete,
    event,
    exists,
    insert,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, Mapper, Session, aliased, attributes, mapped_column
from sqlalchemy.types import TypeEngine

from lgo import traits
from lgo.db import Base
from lgo.domain.patients import Patient
from lgo.errors import ValidationError

#: ``(session, pharmacy_id, identifier) -> patient ids``: a plugin's own identifiers (e.g. the INS matricule).
IdentifierLookup = Callable[[Session, int, str], Iterable[int]]

#: Patient columns whose words are searchable.
NAME_FIELDS = ("birth_name", "used_name", "first_names", "used_first_name")
TERM_LENGTH = 40
SORT_KEY_LENGTH = 100


def _byte_ordered(length: int) -> TypeEngine[str]:
    """A string compared byte by byte on every database, so that a range ``[prefix, next prefix)`` holds exactly
    the words starting with the prefix (a linguistic collation would ignore spaces and sort differently)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class PatientSearchTerm(Base):
    """One normalised word of a patient's names."""

    __tablename__ = "patient_search_term"
    __table_args__ = (Index("ix_patient_search_term_lookup", "pharmacy_id", "term", "sort_key", "patient_id"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(_byte_ordered(TERM_LENGTH), primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacy.id"))
    #: The name as listed (used or birth name, then first names), normalised: the order of the results.
    sort_key: Mapped[str] = mapped_column(_byte_ordered(SORT_KEY_LENGTH))


# --- normalisation ----------------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^A-Z0-9]+")


def normalise(text: str) -> str:
    """Each word written the RNIV way (:func:`lgo.traits.ins_name`: upper case, no accents, Æ → AE, Œ → OE, Ø → O,
    ß → SS...), then every run of other characters one space: « Lemoine-Démo d'Œillet » → « LEMOINE DEMO D OEILLET »."""
    words = []
    for token in text.split():
        try:
            words.append(traits.ins_name(token))
        except ValidationError:  # not a name (a digit, a symbol): the same letters without their accents
            bare = "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))
            words.append(bare.upper())
    return _NOT_WORD.sub(" ", " ".join(words)).strip()


def terms_of(*names: str | None) -> set[str]:
    return {word[:TERM_LENGTH] for name in names if name for word in normalise(name).split()}


def sort_key_of(birth_name: str, first_names: str, used_name: str | None = None) -> str:
    return normalise(f"{used_name or birth_name} {first_names}")[:SORT_KEY_LENGTH]


def term_rows(
    *,
    pharmacy_id: int,
    patient_id: int,
    birth_name: str,
    first_names: str,
    used_name: str | None = None,
    used_first_name: str | None = None,
) -> list[dict[str, Any]]:
    """The ``patient_search_term`` rows of one patient (bulk loaders write them with the patient)."""
    sort_key = sort_key_of(birth_name, first_names, used_name)
    return [
        {"pharmacy_id": pharmacy_id, "patient_id": patient_id, "term": term, "sort_key": sort_key}
        for term in sorted(terms_of(birth_name, used_name, first_names, used_first_name))
    ]


def rows_of(patient: Any) -> list[dict[str, Any]]:
    """The search rows of a patient, or of a selected row with the patient's ``id``, pharmacy and names."""
    return term_rows(
        pharmacy_id=patient.pharmacy_id,
        patient_id=patient.id,
        birth_name=patient.birth_name,
        first_names=patient.first_names,
        used_name=patient.used_name,
        used_first_name=patient.used_first_name,
    )


def rebuild(connection: Connection, pharmacy_id: int | None = None) -> int:
    """Write the search words of every patient again (of one pharmacy when given); returns the patients indexed.
    For a migration that changes the normalisation, or after rows were loaded without the ORM."""
    table = Patient.__table__
    patients = select(table.c.id, table.c.pharmacy_id, *(table.c[name] for name in NAME_FIELDS))
    terms = delete(PatientSearchTerm)
    if pharmacy_id is not None:
        patients = patients.where(table.c.pharmacy_id == pharmacy_id)
        terms = terms.where(PatientSearchTerm.pharmacy_id == pharmacy_id)
    connection.execute(terms)
    count, batch = 0, []
    for row in connection.execute(patients.order_by(table.c.id)):
        count += 1
        batch += rows_of(row)
        if len(batch) >= 5000:
            connection.execute(insert(PatientSearchTerm), batch)
            batch = []
    if batch:
        connection.execute(insert(PatientSearchTerm), batch)
    return count


@event.listens_for(Patient, "after_insert")
def _index_new_patient(_mapper: Mapper[Patient], connection: Connection, patient: Patient) -> None:
    rows = rows_of(patient)
    if rows:
        connection.execute(insert(PatientSearchTerm), rows)


@event.listens_for(Patient, "after_update")
def _reindex_renamed_patient(_mapper: Mapper[Patient], connection: Connection, patient: Patient) -> None:
    if not any(attributes.get_history(patient, name).has_changes() for name in (*NAME_FIELDS, "pharmacy_id")):
        return
    connection.execute(delete(PatientSearchTerm).where(PatientSearchTerm.patient_id == patient.id))
    _index_new_patient(_mapper, connection, patient)


# --- what was typed -----------------------------------------------------------------------------------------

_NIR = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}(?:[0-9]{2})?$")
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{4})$")
_YEAR = re.compile(r"^\d{4}$")
_COMPACT_DATE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")

NOTHING_TYPED_FR = "Saisissez un nom, une date de naissance (jj/mm/aaaa) ou un NIR pour rechercher un patient."


@dataclass(frozen=True)
class Query:
    """What the pharmacist typed, understood: name words (prefixes), a birth-date condition, or an identifier."""

    words: tuple[str, ...] = ()
    #: Accepted ``birth_date`` texts (``AAAA-MM-JJ``, 00 when unknown), or ``None``.
    birth_dates: frozenset[str] | None = None
    #: Inclusive ranges of ``birth_date`` texts (a month, a year).
    birth_date_ranges: tuple[tuple[str, str], ...] = ()
    identifier: str | None = None

    @property
    def has_date(self) -> bool:
        return self.birth_dates is not None or bool(self.birth_date_ranges)


def _year(text: str, today: date) -> list[int]:
    if len(text) == 4:
        return [int(text)]
    # Two digits: the century is unknown; keep both when the later one is not in the future.
    years = [1900 + int(text)]
    if 2000 + int(text) <= today.year:
        years.append(2000 + int(text))
    return years


def _check_date(day: int, month: int, year: int, typed: str) -> None:
    try:
        date(year, month, day)
    except ValueError:
        raise ValidationError(
            f"Date de naissance invalide : « {typed} » (format jj/mm/aaaa).", detail=f"invalid date {typed!r}"
        ) from None


def _date_query(token: str, today: date) -> tuple[frozenset[str] | None, tuple[tuple[str, str], ...]] | None:
    """The birth-date condition of one typed word, ``None`` when the word is no date."""
    if compact := _COMPACT_DATE.match(token):
        token = "/".join(compact.groups())
    if _YEAR.match(token):
        year = int(token)
        _check_date(1, 1, year, token)
        return None, ((f"{year:04d}-00-00", f"{year:04d}-12-31"),)
    if match := _MONTH_YEAR.match(token):
        month, year = int(match.group(1)), int(match.group(2))
        _check_date(1, month, year, token)
        return frozenset({f"{year:04d}-00-00"}), ((f"{year:04d}-{month:02d}-00", f"{year:04d}-{month:02d}-31"),)
    match = _DATE.match(token)
    if match is None:
        return None
    day, month = int(match.group(1)), int(match.group(2))
    years = _year(match.group(3), today) if match.group(3) else list(range(1900, today.year + 1))
    accepted: set[str] = set()
    for year in years:
        if match.group(3):
            _check_date(day, month, year, token)
        elif not _valid(day, month, year):
            continue  # 29/02 without a year: only leap years
        accepted.add(f"{year:04d}-{month:02d}-{day:02d}")
        if match.group(3):
            # A birth date known only in part (RNIV: 00 for the unknown day or month) may be this person's.
            accepted |= {f"{year:04d}-{month:02d}-00", f"{year:04d}-00-00"}
    if not accepted:
        _check_date(day, month, 2000, token)
    return frozenset(accepted), ()


def _valid(day: int, month: int, year: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def parse(text: str, *, today: date | None = None) -> Query:
    """Understand a search text, or raise :class:`ValidationError` with a French message."""
    today = today or date.today()
    compact = re.sub(r"[\s.]", "", text).upper()
    if _NIR.match(compact):
        return Query(identifier=compact)
    words: list[str] = []
    dates: tuple[frozenset[str] | None, tuple[tuple[str, str], ...]] | None = None
    for token in text.split():
        if any(c.isdigit() for c in token):
            found = _date_query(token, today)
            if found is None:
                raise ValidationError(
                    f"« {token[:40]} » n'est ni une date de naissance (jj/mm/aaaa) ni un NIR (13 ou 15 caractères).",
                    detail=f"unrecognised search token {token!r}",
                )
            if dates is not None:
                raise ValidationError("Une seule date de naissance à la fois.", detail=f"two dates in {text!r}")
            dates = found
            continue
        words += [word[:TERM_LENGTH] for word in normalise(token).split()]
    if not words and dates is None:
        raise ValidationError(NOTHING_TYPED_FR, detail=f"nothing searchable in {text!r}")
    birth_dates, ranges = dates if dates is not None else (None, ())
    return Query(words=tuple(dict.fromkeys(words)), birth_dates=birth_dates, birth_date_ranges=ranges)


# --- the search -----------------------------------------------------------------------------------------------
#
# Each kind of search is one statement with bound parameters, built the first time its shape is met (how many words,
# which kind of date, a next page) and kept: building a SQLAlchemy statement and its cache key costs more than running
# it, and a counter searches all day long.

_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_ALIASES: list[Any] = []


def _next_prefix(prefix: str) -> str:
    """The smallest string after every string that starts with ``prefix`` (terms are ASCII)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _alias(n: int) -> Any:
    while len(_ALIASES) <= n:
        _ALIASES.append(aliased(PatientSearchTerm, name=f"term_{len(_ALIASES)}"))
    return _ALIASES[n]


def _kept(shape: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    statement = _STATEMENTS.get(shape)
    if statement is None:
        statement = _STATEMENTS[shape] = build()  # two threads may both build it: the same statement either way
    return statement


def _starts_with(column: Any, name: str) -> ColumnElement[bool]:
    return and_(column >= bindparam(name), column < bindparam(f"{name}_end"))


def _prefix(name: str, prefix: str) -> dict[str, str]:
    return {name: prefix, f"{name}_end": _next_prefix(prefix)}


def _date_shape(query: Query) -> tuple[bool, int]:
    return bool(query.birth_dates), len(query.birth_date_ranges)


def _date_condition(shape: tuple[bool, int]) -> ColumnElement[bool]:
    column = Patient.birth_date_text
    has_list, ranges = shape
    parts = [column.between(bindparam(f"born_low{i}"), bindparam(f"born_high{i}")) for i in range(ranges)]
    if has_list:
        parts.append(column.in_(bindparam("born", expanding=True)))
    return or_(*parts) if len(parts) > 1 else parts[0]


def _date_params(query: Query) -> dict[str, Any]:
    params: dict[str, Any] = {"born": sorted(query.birth_dates or ())}
    for i, (low, high) in enumerate(query.birth_date_ranges):
        params |= {f"born_low{i}": low, f"born_high{i}": high}
    return params


def _by_names(session: Session, pharmacy_id: int, query: Query, limit: int) -> list[Patient]:
    # The longest word drives (fewest rows to read); the others must each start one of the patient's words.
    driver = max(query.words, key=len)
    others = [word for word in query.words if word != driver]
    date_shape = _date_shape(query) if query.has_date else None
    term = _alias(0)

    def build(after: bool) -> Any:
        statement = (
            select(Patient, term.term, term.sort_key)
            .join(Patient, Patient.id == term.patient_id)
            .where(term.pharmacy_id == bindparam("pharmacy"), _starts_with(term.term, "word0"))
        )
        for n in range(1, len(others) + 1):
            other = _alias(n)
            statement = statement.where(
                exists().where(other.patient_id == term.patient_id, _starts_with(other.term, f"word{n}"))
            )
        if date_shape is not None:
            statement = statement.where(_date_condition(date_shape))
        if after:
            last = tuple_(bindparam("last_term"), bindparam("last_key"), bindparam("last_id"))
            statement = statement.where(tuple_(term.term, term.sort_key, term.patient_id) > last)
        return statement.order_by(term.term, term.sort_key, term.patient_id).limit(bindparam("limit"))

    params: dict[str, Any] = {"pharmacy": pharmacy_id, "limit": limit, **_prefix("word0", driver)}
    for n, word in enumerate(others, start=1):
        params |= _prefix(f"word{n}", word)
    if query.has_date:
        params |= _date_params(query)
    found: dict[int, Patient] = {}
    # One patient may have two words starting with the driver: read on (keyset) until ``limit`` distinct patients.
    while len(found) < limit:
        after = "last_id" in params
        statement = _kept(("names", len(others), date_shape, after), functools.partial(build, after))
        rows = session.execute(statement, params).all()
        for patient, word, sort_key in rows:
            found.setdefault(patient.id, patient)
            params |= {"last_term": word, "last_key": sort_key, "last_id": patient.id}
        if len(rows) < limit:
            break
    return list(found.values())[:limit]


def _by_birth_date(session: Session, pharmacy_id: int, query: Query, limit: int) -> list[Patient]:
    shape = _date_shape(query)
    statement = _kept(
        ("birth_date", shape),
        lambda: (
            select(Patient)
            .where(Patient.pharmacy_id == bindparam("pharmacy"), _date_condition(shape))
            .order_by(Patient.birth_date_text, Patient.id)
            .limit(bindparam("limit"))
        ),
    )
    return list(session.scalars(statement, {"pharmacy": pharmacy_id, "limit": limit, **_date_params(query)}))


def _by_identifier(
    session: Session, pharmacy_id: int, identifier: str, limit: int, lookups: Sequence[IdentifierLookup]
) -> list[Patient]:
    # The carte Vitale NIR is the insured person's: a family shares it, the rank tells the beneficiaries apart.
    complete = len(identifier) == 15

    def build() -> Any:
        nir = Patient.vitale_nir == bindparam("nir") if complete else _starts_with(Patient.vitale_nir, "nir")
        return (
            select(Patient)
            .where(Patient.pharmacy_id == bindparam("pharmacy"), nir)
            .order_by(Patient.vitale_nir, Patient.vitale_rank, Patient.id)
            .limit(bindparam("limit"))
        )

    params = {
        "pharmacy": pharmacy_id,
        "limit": limit,
        **({"nir": identifier} if complete else _prefix("nir", identifier)),
    }
    found = {patient.id: patient for patient in session.scalars(_kept(("nir", complete), build), params)}
    others = [i for lookup in lookups for i in lookup(session, pharmacy_id, identifier) if i not in found]
    if others:
        # A lookup may name a patient of another pharmacy: never shown here.
        rows = {
            p.id: p
            for p in session.scalars(select(Patient).where(Patient.id.in_(others), Patient.pharmacy_id == pharmacy_id))
        }
        found.update((i, rows[i]) for i in others if i in rows)
    return list(found.values())[:limit]


def search(
    session: Session,
    pharmacy_id: int,
    text: str,
    *,
    limit: int = 20,
    identifier_lookups: Sequence[IdentifierLookup] = (),
    today: date | None = None,
) -> list[Patient]:
    """Patients of this pharmacy matching ``text``, at most ``limit`` (ask ``limit + 1`` to know whether there are
    more): name words by their beginning, in any order (« martin jea », « jean martin »), with a birth date
    (jj/mm/aaaa, jj/mm/aa, mm/aaaa, aaaa, jj/mm); or a NIR of 13 or 15 characters (carte Vitale, and the
    ``identifier_lookups`` of plugins). Ordered by the matched word, then by name. :class:`ValidationError` in
    French when nothing searchable was typed."""
    if limit < 1:
        raise ValidationError("Le nombre de résultats doit être au moins 1.", detail=f"limit={limit}")
    query = parse(text, today=today)
    if query.identifier is not None:
        return _by_identifier(session, pharmacy_id, query.identifier, limit, identifier_lookups)
    if query.words:
        return _by_names(session, pharmacy_id, query, limit)
    return _by_birth_date(session, pharmacy_id, query, limit)
