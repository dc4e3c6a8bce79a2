"""Patient search at the counter: names by their beginning (no accents, no case), birth date, NIR; within the
pharmacy; through indexes whose cost does not depend on the number of patients."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.demo_data import Seeded, nir_with_key, with_luhn
from lgo.domain.patient_search import PatientSearchTerm, normalise, parse, rebuild, search, terms_of
from lgo.domain.patients import Patient, create_patient
from lgo.domain.pharmacy import create_pharmacy
from lgo.errors import ValidationError
from lgo.kernel import Kernel
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

TODAY = date(2026, 12, 1)
#: What depends on the database (byte-ordered ranges, row values, plans, IN and BETWEEN) runs on both; what is the same
#: SQL or Python on both (transliteration, ORM events, lookups, scoping, the property over names) runs on SQLite only.
ONE_BACKEND = pytest.mark.parametrize("lgo_backend", ["sqlite"])
TODAY_UTC = datetime(2026, 12, 1, tzinfo=UTC)


def _names(patients: list[Patient]) -> list[str]:
    return [f"{p.birth_name} {p.first_names}" for p in patients]


def _add(session: Session, pharmacy_id: int, **traits: Any) -> int:
    traits = {"sex": "F", "birth_date": "1970-01-01", **traits}
    return create_patient(session, pharmacy_id, **traits).id


@pytest.fixture
def people(lgo_kernel: Kernel, lgo_seeded: Seeded) -> dict[str, int]:
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        return {
            "helene": _add(session, pharmacy, birth_name="Dupont", first_names="Hélène Marie", birth_date="1985-03-14"),
            "jean": _add(session, pharmacy, birth_name="Dupont", first_names="Jean", sex="M", birth_date="1952-07-01"),
            "jeanne": _add(
                session,
                pharmacy,
                birth_name="Lefèvre",
                used_name="Dupond",
                first_names="Jeanne",
                birth_date="1985-03-00",
            ),
            "oeillet": _add(
                session, pharmacy, birth_name="d'Aubigné-Ségur", first_names="Zoé", birth_date="2001-11-30"
            ),
            "nir": _add(
                session,
                pharmacy,
                birth_name="Vitale",
                first_names="Paul",
                sex="M",
                birth_date="1960-05-05",
                vitale_nir=nir_with_key("1600599100077"),
                vitale_rank=1,
            ),
        }


def test_names_are_found_by_their_beginning_without_accents_or_case(
    lgo_kernel: Kernel, lgo_seeded: Seeded, people: dict[str, int]
) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        assert [p.id for p in search(session, pharmacy, "helene")] == [people["helene"]]
        assert [p.id for p in search(session, pharmacy, "HÉL")] == [people["helene"]]
        assert [p.id for p in search(session, pharmacy, "marie")] == [people["helene"]]  # second first name
        # Used and birth names both count; results in the order of the matched word, then by name.
        assert _names(search(session, pharmacy, "dupo")) == [
            "LEFÈVRE JEANNE",  # used name DUPOND
            "DUPONT HÉLÈNE MARIE",
            "DUPONT JEAN",
        ]
        assert [p.id for p in search(session, pharmacy, "lefevre")] == [people["jeanne"]]
        # Several words, in any order, each the beginning of one of the patient's words.
        assert [p.id for p in search(session, pharmacy, "dupont jea")] == [people["jean"]]
        assert [p.id for p in search(session, pharmacy, "jea dupont")] == [people["jean"]]
        assert {p.id for p in search(session, pharmacy, "jea dupo")} == {people["jean"], people["jeanne"]}
        # Apostrophes and hyphens split the words.
        assert [p.id for p in search(session, pharmacy, "aubigne")] == [people["oeillet"]]
        assert [p.id for p in search(session, pharmacy, "Ségur zo")] == [people["oeillet"]]
        assert search(session, pharmacy, "dupontel") == []


@ONE_BACKEND
def test_letters_of_other_latin_alphabets_are_written_the_rniv_way(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    with lgo_kernel.transaction() as session:
        patient = _add(session, lgo_seeded.pharmacy_id, birth_name="Østergård", first_names="Łucja Æsa")
        for typed in ("ostergard", "ØSTER", "luc", "aesa oster"):
            assert [p.id for p in search(session, lgo_seeded.pharmacy_id, typed)] == [patient], typed


def test_a_birth_date_full_partial_or_with_the_names(
    lgo_kernel: Kernel, lgo_seeded: Seeded, people: dict[str, int]
) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:

        def ids(typed: str) -> set[int]:
            return {p.id for p in search(session, pharmacy, typed, today=TODAY)}

        # Jeanne's birth date is known to the month only (RNIV 00): she may be born on the 14th. Camille is the
        # demo pharmacy's patient born on 14/03/1985.
        march_1985 = {people["helene"], people["jeanne"], lgo_seeded.patients["camille"]}
        for typed in ("14/03/1985", "14031985", "14/03/85", "03/1985", "1985"):
            assert ids(typed) == march_1985, typed
        # Without a year, only the exact day and month (every year-only birth date would match otherwise).
        assert ids("14/03") == {people["helene"], lgo_seeded.patients["camille"]}
        assert ids("1979") == {lgo_seeded.patients["amadou"]}  # born in 1979, day and month unknown
        assert ids("30.11.2001") == {people["oeillet"]}
        assert ids("dupont 14/03/1985") == {people["helene"]}
        assert ids("1952 jean") == {people["jean"]}
        assert ids("01/07/1953") == set()


@ONE_BACKEND
def test_the_nir_of_the_carte_vitale_with_or_without_its_key_and_plugin_identifiers(
    lgo_kernel: Kernel, lgo_seeded: Seeded, people: dict[str, int]
) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    nir = nir_with_key("1600599100077")
    with lgo_kernel.transaction() as session:
        assert [p.id for p in search(session, pharmacy, nir)] == [people["nir"]]
        assert [p.id for p in search(session, pharmacy, f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:]}")] == [people["nir"]]
        assert [p.id for p in search(session, pharmacy, nir[:13])] == [people["nir"]]
        # Camille and Léa share the insured person's NIR: both beneficiaries are listed, by rank.
        family = search(session, pharmacy, nir_with_key("2850399100123"))
        assert [p.id for p in family] == [lgo_seeded.patients["camille"], lgo_seeded.patients["lea"]]

        seen: list[tuple[int, str]] = []

        def ins_lookup(session: Session, pharmacy_id: int, identifier: str) -> list[int]:
            seen.append((pharmacy_id, identifier))
            return [people["jean"], 10**9]  # an id of no patient of this pharmacy is never shown

        found = search(session, pharmacy, "2 52 07 99 100 999 12", identifier_lookups=[ins_lookup])
        assert [p.id for p in found] == [people["jean"]]
        assert seen == [(pharmacy, "252079910099912")]


@ONE_BACKEND
def test_a_search_stays_within_its_pharmacy(lgo_kernel: Kernel, lgo_seeded: Seeded, people: dict[str, int]) -> None:
    with lgo_kernel.transaction() as session:
        other = create_pharmacy(session, name="Autre officine", finess=with_luhn("99000002")).id
        stranger = _add(session, other, birth_name="Dupont", first_names="Hélène", birth_date="1985-03-14")
        assert stranger not in {p.id for p in search(session, lgo_seeded.pharmacy_id, "dupont")}
        assert [p.id for p in search(session, other, "dupont")] == [stranger]
        assert [p.id for p in search(session, other, "14/03/1985")] == [stranger]


@ONE_BACKEND
def test_renaming_a_patient_renames_its_search_words(
    lgo_kernel: Kernel, lgo_seeded: Seeded, people: dict[str, int]
) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    lgo_kernel.update_patient_traits(pharmacy, people["jean"], used_name="Moreau", first_names="Jean Luc")
    with lgo_kernel.transaction() as session:
        assert [p.id for p in search(session, pharmacy, "moreau luc")] == [people["jean"]]
        assert [p.id for p in search(session, pharmacy, "dupont jean")] == [people["jean"]]  # birth name kept
        words = set(
            session.scalars(select(PatientSearchTerm.term).where(PatientSearchTerm.patient_id == people["jean"]))
        )
        assert words == {"DUPONT", "MOREAU", "JEAN", "LUC"}


def test_a_limit_and_the_next_page_of_a_common_name(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.transaction() as session:
        for i in range(30):
            # Two words of one patient match « march »: each patient is listed once.
            _add(
                session, pharmacy, birth_name="Marchal", used_name="Marchand", first_names=f"Prénom {chr(65 + i % 26)}"
            )
        found = search(session, pharmacy, "march", limit=25)
        assert len(found) == 25 and len({p.id for p in found}) == 25
        assert len(search(session, pharmacy, "marchal", limit=100)) == 30


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Saisissez un nom, une date de naissance"),
        ("  -- ' ", "Saisissez un nom, une date de naissance"),
        ("31/02/1985", "Date de naissance invalide : « 31/02/1985 »"),
        ("12345", "« 12345 » n'est ni une date de naissance (jj/mm/aaaa) ni un NIR"),
        ("1985 1986", "Une seule date de naissance à la fois."),
    ],
)
def test_what_cannot_be_searched_is_said_in_french(typed: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        parse(typed, today=TODAY)


@ONE_BACKEND
def test_rebuild_writes_the_words_of_rows_loaded_without_the_orm(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    with lgo_kernel.engine.begin() as connection:
        before = connection.scalar(select(func.count()).select_from(PatientSearchTerm))
        connection.execute(PatientSearchTerm.__table__.delete())
        assert rebuild(connection, lgo_seeded.pharmacy_id) == len(lgo_seeded.patients)
        assert connection.scalar(select(func.count()).select_from(PatientSearchTerm)) == before


def test_the_searches_read_indexes_not_the_whole_table(lgo_kernel: Kernel, lgo_seeded: Seeded) -> None:
    """What keeps the cost flat when the pharmacy grows: each kind of search goes through an index that starts with
    the pharmacy (the benchmark measures the times at 30 000 and 300 000 patients)."""
    pharmacy = lgo_seeded.pharmacy_id
    with lgo_kernel.engine.begin() as connection:  # enough patients for the planner's statistics to mean something
        rows = [
            {
                "pharmacy_id": pharmacy,
                "birth_name": f"NOM{i:04d}",
                "first_names": f"PRENOM{i % 97}",
                "sex": "F",
                "birth_date": f"{1920 + i % 90}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "vitale_nir": nir_with_key(f"2{i % 100:02d}{1 + i % 12:02d}99100{i % 1000:03d}"),
                "vitale_rank": 1,
                "complementary_rate": 0,
                "created_at": TODAY_UTC,
                "updated_at": TODAY_UTC,
            }
            for i in range(3000)
        ]
        connection.execute(Patient.__table__.insert(), rows)
        rebuild(connection, pharmacy)
        connection.execute(text("ANALYZE"))
    executed: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "ORDER BY" in statement:
            executed.append((statement, parameters))

    event.listen(lgo_kernel.engine, "before_cursor_execute", remember)
    try:
        with lgo_kernel.transaction() as session:
            for typed in ("dupont jea", "14/03/1985", "1985", nir_with_key("2850399100123")):
                search(session, pharmacy, typed, today=TODAY)
    finally:
        event.remove(lgo_kernel.engine, "before_cursor_execute", remember)
    expected = [
        "ix_patient_search_term_lookup",
        "ix_patient_pharmacy_id_birth_date",
        "ix_patient_pharmacy_id_birth_date",
        "ix_patient_pharmacy_id_vitale_nir",
    ]
    assert len(executed) == len(expected)
    with lgo_kernel.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        for (statement, parameters), index in zip(executed, expected, strict=True):
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(row) for row in connection.exec_driver_sql(explain + statement, parameters))
            assert index in plan, plan
            assert "SCAN patient " not in plan and "Seq Scan" not in plan, plan


# --- properties over the space of names -------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüæ"
_word = st.text(alphabet=_LETTERS + _LETTERS.upper(), min_size=1, max_size=12)
_name = st.lists(_word, min_size=1, max_size=3).flatmap(
    lambda words: st.sampled_from([" ", "-", "'"]).map(lambda sep: sep.join(words))
)


@given(name=_name.map(lambda n: n.replace("oe", "œ")), first=_name)
def test_normalised_words_are_ascii_upper_case_and_found_again(name: str, first: str) -> None:
    words = terms_of(name, first)
    assert words and all(w.isascii() and w == w.upper() and " " not in w for w in words)
    for word in normalise(name).split():
        assert parse(word.lower(), today=TODAY).words == (word,)


@ONE_BACKEND
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(birth_name=_name, first_names=_name, prefix_length=st.integers(min_value=1, max_value=4))
def test_every_patient_is_found_by_the_beginning_of_any_of_its_words(
    lgo_kernel: Kernel, lgo_seeded: Seeded, birth_name: str, first_names: str, prefix_length: int
) -> None:
    with lgo_kernel.transaction() as session:
        patient = _add(session, lgo_seeded.pharmacy_id, birth_name=birth_name, first_names=first_names)
        for word in normalise(f"{birth_name} {first_names}").split():
            typed = word[:prefix_length].lower()
            found = search(session, lgo_seeded.pharmacy_id, typed, limit=1000)
            assert patient in {p.id for p in found}, (typed, birth_name, first_names)
