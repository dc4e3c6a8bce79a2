"""A pharmacy-year written straight into the database: the volumes of a large pharmacy, reproducible from a seed.

Rows go in with bulk SQLAlchemy Core inserts (ids chosen here, sequences moved past them afterwards on
PostgreSQL), not through the counter: 250 000 lines in a few minutes rather than hours. What the counter would
have written is written here with the same rules, so that the kernel's invariants hold on the result
(:mod:`lgo.testing.invariants`): invoices numbered 1..n in time order and equal to their lines (shares computed
by :func:`lgo.domain.billing.compute_shares`), one ordonnancier entry per product line of a prescription, stock
received in lots before it is sold (never below zero), one audit entry per invoice, search words of every patient.

The plugins' own tables (INS statuses, vaccination notes, interviews, DMP submissions) are filled when those plugins
are installed; the documents are CDA shells of a realistic size, not conformance-checked documents.
"""

from __future__ import annotations

import base64
import itertools
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from lgo.demo_data import cip13, with_luhn
from lgo.documents.model import DocumentStatus, HealthDocument
from lgo.domain.audit import AuditEntry
from lgo.domain.billing import INVOICE, Invoice, InvoiceLine, LineKind, compute_shares
from lgo.domain.dispensing import ORDONNANCIER, Dispensation, Prescription, PrescriptionSource
from lgo.domain.outbox import OutboxMessage, OutboxStatus
from lgo.domain.patient_search import PatientSearchTerm, term_rows
from lgo.domain.patients import Patient
from lgo.domain.pharmacy import DEFAULT_HABILITATIONS, OperatorHabilitation, Pharmacy, Role, hash_password
from lgo.domain.products import ListCategory, Product
from lgo.domain.sequences import SequenceCounter
from lgo.domain.stock import Lot, Movement, MovementKind
from lgo.identity import OID_NIR
from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, text

from workload import identities
from workload.identities import Identity, listed

PARIS = ZoneInfo("Europe/Paris")
#: Rows per INSERT batch.
CHUNK = 5000
#: Password of every generated operator (fictional pharmacy; the benchmarks sign in with it).
PASSWORD = "officine-banc"
#: The largest weight of a patient's visits: about the 99.9th percentile of their log-normal law (see generation).
_MOST_REGULAR = 40.0

Report = Callable[[str], None]


@dataclass(frozen=True)
class Scale:
    """How much one pharmacy holds after a year. The default is a large pharmacy."""

    patients: int = 30_000
    invoices: int = 90_000
    lines: int = 250_000
    vaccinations: int = 3_000
    documents: int = 2_000
    products: int = 3_000

    def times(self, factor: float) -> Scale:
        def scaled(value: int, least: int) -> int:
            return max(least, round(value * factor))

        invoices = scaled(self.invoices, 10)
        vaccinations = min(scaled(self.vaccinations, 1), invoices // 4)
        return Scale(
            patients=scaled(self.patients, 20),
            invoices=invoices,
            lines=max(scaled(self.lines, 10), invoices + vaccinations),
            vaccinations=vaccinations,
            documents=scaled(self.documents, 1),
            products=scaled(self.products, 40),
        )

    def volume_fr(self) -> str:
        def n(value: int) -> str:
            return f"{value:,}".replace(",", "\u202f")

        return (
            f"{n(self.patients)} patients, {n(self.invoices)} factures, {n(self.lines)} lignes, "
            f"{n(self.vaccinations)} vaccinations, {n(self.documents)} autres documents"
        )


@dataclass
class PharmacyYear:
    """What was written for one pharmacy."""

    pharmacy_id: int
    finess: str
    scale: Scale
    operators: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def finess_of(index: int) -> str:
    """FINESS of the generated pharmacy n° ``index`` (99… range, as the demo data's)."""
    return with_luhn(f"9910{index:04d}")


def generate(
    bind: Engine,
    *,
    scale: Scale = Scale(),
    seed: int = 2025,
    pharmacies: int = 1,
    first_index: int = 1,
    until: date | None = None,
    report: Report = lambda _message: None,
) -> list[PharmacyYear]:
    """Write ``pharmacies`` pharmacy-years into a migrated database (group mode when more than one). The same
    seed, scale and ``until`` give the same rows."""
    until = until or date.today()
    made = []
    for index in range(first_index, first_index + pharmacies):
        label = f"Officine {index - first_index + 1}/{pharmacies}" if pharmacies > 1 else "Officine"
        start = time.perf_counter()
        with bind.begin() as connection:
            writer = _PharmacyWriter(connection, random.Random(seed * 1_000_003 + index), scale, until, index, label)
            year = writer.write(report)
        year.seconds = time.perf_counter() - start
        report(f"{label} : écrite en {year.seconds:.1f} s ({scale.volume_fr()}).")
        made.append(year)
    if bind.dialect.name == "postgresql":
        with bind.begin() as connection:
            _move_sequences_past_ids(connection)
            connection.execute(text("ANALYZE"))
    return made


# --- the catalogue --------------------------------------------------------------------------------------------

_MOLECULES = listed(
    "PARACÉTAMOL IBUPROFÈNE AMOXICILLINE METFORMINE LÉVOTHYROXINE ATORVASTATINE OMÉPRAZOLE AMLODIPINE "
    "RAMIPRIL BISOPROLOL TRAMADOL SERTRALINE ESCITALOPRAM LOSARTAN FUROSÉMIDE PANTOPRAZOLE SIMVASTATINE "
    "CLOPIDOGREL APIXABAN RIVAROXABAN PRÉDNISOLONE SALBUTAMOL BUDÉSONIDE MONTÉLUKAST CÉTIRIZINE "
    "DESLORATADINE AZITHROMYCINE DOXYCYCLINE FLUCONAZOLE ZOLPIDEM ALPRAZOLAM LORAZÉPAM PRÉGABALINE "
    "GABAPENTINE DULOXÉTINE VENLAFAXINE INSULINE GLARGINE SITAGLIPTINE GLICLAZIDE PERINDOPRIL VALSARTAN "
    "INDAPAMIDE ALLOPURINOL COLCHICINE"
)
_FORMS = ("comprimé", "gélule", "comprimé pelliculé", "sirop", "solution buvable", "crème", "collyre")
_OTC = ("SÉRUM PHYSIOLOGIQUE", "PASTILLES GORGE", "CRÈME SOLAIRE", "VITAMINE C", "PANSEMENTS", "SPRAY NASAL")
#: Vaccines: (label, ATC, price in cents, reimbursement rate, act code, share of the year's vaccinations).
_VACCINES = (
    ("VACCIN GRIPPAL TÉTRAVALENT BANC, seringue préremplie 0,5 ml", "J07BB02", 981, 100, "VGP", 0.62),
    ("VACCIN COVID-19 ARNm BANC, flacon multidose", "J07BN01", 0, 100, "INJ", 0.2),
    ("VACCIN PNEUMOCOCCIQUE CONJUGUÉ BANC, seringue préremplie", "J07AL02", 5620, 65, "RVA", 0.08),
    ("VACCIN DIPHTÉRIE-TÉTANOS-POLIOMYÉLITE BANC, seringue préremplie", "J07CA01", 1132, 65, "RVA", 0.06),
    ("VACCIN PAPILLOMAVIRUS BANC, seringue préremplie", "J07BM03", 11600, 65, "RVA", 0.04),
)
#: The vaccination plugin's acts (fee, reimbursement rate, label), as ``lgo_vaccination.codes.ACTS``.
_ACT_FEES = {
    "VGP": (750, 70, "Vaccination contre la grippe par le pharmacien"),
    "INJ": (790, 100, "Injection du vaccin contre la Covid-19"),
    "RVA": (750, 70, "Administration d'un vaccin par le pharmacien"),
}


def cip13_of(n: int) -> str:
    return cip13(f"{n:07d}")


@dataclass
class _Product:
    id: int
    label: str
    price: int
    rate: int
    listed: bool
    vaccine: tuple[str, float] | None = None  # (act code, share)


@dataclass
class _Line:
    product: _Product | None
    act: str | None
    quantity: int
    lot_id: int = 0


@dataclass
class _Sale:
    at: datetime
    patient: int | None
    complementary: int
    prescription: int | None
    operator: int
    lines: list[_Line]
    vaccination: bool = False


class _PharmacyWriter:
    def __init__(
        self, connection: Connection, rng: random.Random, scale: Scale, until: date, index: int, label: str
    ) -> None:
        self.conn = connection
        self.rng = rng
        self.scale = scale
        self.until = until
        self.start = until - timedelta(days=365)
        self.index = index
        self.label = label
        self.next_ids: dict[str, int] = {}
        tables = set(inspect(connection).get_table_names())
        self.plugins = {name for name in ("ins", "vaccination", "entretiens", "dmp") if self._has(name, tables)}

    @staticmethod
    def _has(plugin: str, tables: set[str]) -> bool:
        wanted = {"ins": "ins_identity", "vaccination": "vaccination_note", "entretiens": "entretiens_record"}
        return wanted.get(plugin, "dmp_submission") in tables

    # --- plumbing -------------------------------------------------------------------------------------------

    def _ids(self, table: Table, count: int) -> range:
        name = table.name
        if name not in self.next_ids:
            self.next_ids[name] = int(self.conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
        first = self.next_ids[name]
        self.next_ids[name] = first + count
        return range(first, first + count)

    def _insert(self, table: Table, rows: list[dict[str, Any]], report: Report, what_fr: str) -> None:
        write = self._copy if self.conn.dialect.name == "postgresql" and rows else self._insert_many
        for start in range(0, len(rows), CHUNK):
            write(table, rows[start : start + CHUNK])
            done = min(start + CHUNK, len(rows))
            if len(rows) > 4 * CHUNK and (done == len(rows) or (start // CHUNK) % 10 == 9):
                report(f"{self.label} : {what_fr} {done:,}/{len(rows):,}".replace(",", "\u202f"))
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    def _insert_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        self.conn.execute(insert(table), rows)

    def _copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """PostgreSQL's COPY, in the same transaction: several times faster than INSERTs for the big tables."""
        columns = list(rows[0])
        driver = self.conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([_plain(row[c]) for c in columns])

    def _at(self, day: date, minutes: int) -> datetime:
        local = datetime(day.year, day.month, day.day, 8, 30, tzinfo=PARIS) + timedelta(minutes=minutes)
        return local.astimezone(UTC)

    def _uid(self) -> str:
        return f"2.25.{uuid.UUID(int=self.rng.getrandbits(128), version=4).int}"

    # --- the year ---------------------------------------------------------------------------------------------

    def write(self, report: Report) -> PharmacyYear:
        self.counts: dict[str, int] = {}
        report(f"{self.label} : officine, équipe et catalogue…")
        self.pharmacy_id = self._pharmacy()
        year = PharmacyYear(self.pharmacy_id, finess_of(self.index), self.scale)
        year.operators = self._operators()
        self.pharmacists = [year.operators[c] for c in ("titulaire", "adjoint1", "adjoint2")]
        self.sellers = [*self.pharmacists, year.operators["preparateur1"], year.operators["preparateur2"]]
        self.products = self._catalogue()
        report(f"{self.label} : {self.scale.patients:,} patients…".replace(",", "\u202f"))
        self.patients = self._patients(report)
        report(f"{self.label} : une année de ventes…")
        sales = self._sales()
        self._stock(sales, report)
        invoice_ids = self._billing(sales, report)
        self._documents(sales, invoice_ids, report)
        self.conn.execute(
            insert(SequenceCounter.__table__),
            [
                {"pharmacy_id": self.pharmacy_id, "name": INVOICE, "last_value": len(sales)},
                {"pharmacy_id": self.pharmacy_id, "name": ORDONNANCIER, "last_value": self.ordonnancier},
            ],
        )
        year.counts = dict(self.counts)
        return year

    def _pharmacy(self) -> int:
        (pharmacy_id,) = self._ids(Pharmacy.__table__, 1)
        self.conn.execute(
            insert(Pharmacy.__table__).values(
                id=pharmacy_id,
                name=f"Pharmacie du Banc n° {self.index} (fictive)",
                finess=finess_of(self.index),
                address=f"{self.index} rue des Essais",
                postal_code="99100",
                city="Villebanc",
                test_mode=True,
                created_at=datetime.combine(self.start, datetime.min.time(), UTC),
            )
        )
        return pharmacy_id

    def _operators(self) -> dict[str, int]:
        team = [
            ("titulaire", "Titulaire", Role.TITULAIRE),
            ("adjoint1", "Adjoint", Role.ADJOINT),
            ("adjoint2", "Adjointe", Role.ADJOINT),
            ("preparateur1", "Préparateur", Role.PREPARATEUR),
            ("preparateur2", "Préparatrice", Role.PREPARATEUR),
            ("admin", "Administrateur", Role.ADMINISTRATEUR),
        ]
        table = Pharmacy.metadata.tables["operator"]
        ids = self._ids(table, len(team))
        password = _password_hash()
        rows, habilitations = [], []
        for operator_id, (code, last, role) in zip(ids, team, strict=True):
            rpps = with_luhn(f"99999{self.index:03d}{operator_id % 100:02d}") if role.is_pharmacist else None
            rows.append(
                {
                    "id": operator_id,
                    "pharmacy_id": self.pharmacy_id,
                    "code": code,
                    "last_name": f"{last}-Banc",
                    "first_name": "Camille",
                    "role": role,
                    "rpps": rpps,
                    "password_hash": password,
                    "active": True,
                    "created_at": datetime.combine(self.start, datetime.min.time(), UTC),
                }
            )
            habilitations += [
                {"operator_id": operator_id, "pharmacy_id": self.pharmacy_id, "habilitation": str(h)}
                for h in DEFAULT_HABILITATIONS[role]
            ]
        self._insert(table, rows, _quiet, "opérateurs")
        hab_table = OperatorHabilitation.__table__
        for row, hab_id in zip(habilitations, self._ids(hab_table, len(habilitations)), strict=True):
            row["id"] = hab_id
        self._insert(hab_table, habilitations, _quiet, "habilitations")
        return {row["code"]: row["id"] for row in rows}

    def _catalogue(self) -> list[_Product]:
        table = Product.__table__
        count = self.scale.products
        ids = self._ids(table, count + len(_VACCINES))
        products, rows = [], []
        for n, product_id in enumerate(ids):
            if n < len(_VACCINES):
                label, atc, price, rate, act, share = _VACCINES[n]
                product = _Product(product_id, label, price, rate, True, (act, share))
                cis, is_vaccine, category = f"69{n:06d}", True, ListCategory.LISTE_I
            else:
                listed = self.rng.random() < 0.7
                if listed:
                    molecule = self.rng.choice(_MOLECULES)
                    label = f"{molecule} BANC {self.rng.choice((5, 10, 20, 50, 100, 500, 1000))} mg, "
                    label += f"{self.rng.choice(_FORMS)}, boîte de {self.rng.choice((14, 28, 30, 90))}"
                else:
                    label = f"{self.rng.choice(_OTC)} BANC n° {n}"
                price = int(self.rng.lognormvariate(6.2, 0.9))
                rate = self.rng.choice((15, 30, 65, 65, 65, 100)) if listed else self.rng.choice((0, 0, 0, 30))
                product = _Product(product_id, label[:200], price, rate, listed)
                cis, is_vaccine = f"69{n:06d}", False
                category = (
                    self.rng.choice((ListCategory.LISTE_I, ListCategory.LISTE_II)) if listed else ListCategory.NONE
                )
                atc = None
            products.append(product)
            rows.append(
                {
                    "id": product_id,
                    "pharmacy_id": self.pharmacy_id,
                    "cip13": cip13_of(n + 1),
                    "cis": cis,
                    "atc": atc,
                    "label": product.label,
                    "is_vaccine": is_vaccine,
                    "list_category": category,
                    "price_cents": product.price,
                    "reimbursement_rate": product.rate,
                }
            )
        self._insert(table, rows, _quiet, "produits")
        return products

    # --- patients ---------------------------------------------------------------------------------------------

    def _patients(self, report: Report) -> list[tuple[int, int, Identity]]:
        """(id, complementary rate, identity) of each patient; children covered by a parent's carte Vitale."""
        table = Patient.__table__
        ids = self._ids(table, self.scale.patients)
        made: list[tuple[int, int, Identity]] = []
        rows, terms, ins_rows = [], [], []
        parent: tuple[Identity, str, int] | None = None
        created = datetime.combine(self.start - timedelta(days=1500), datetime.min.time(), UTC)
        for serial, patient_id in enumerate(ids):
            is_child = parent is not None and self.rng.random() < 0.22
            person = identities.identity(
                self.rng, self.until, serial, child_of=parent[0] if is_child and parent else None
            )
            if is_child and parent is not None:
                vitale_nir, rank = parent[1], parent[2] + 1
                parent = (parent[0], vitale_nir, rank)
            else:
                vitale_nir, rank = person.nir, 1
                parent = (person, person.nir, 1)
            has_vitale = self.rng.random() < 0.9
            complementary = self.rng.choice((0, 100, 100, 100))
            made.append((patient_id, complementary, person))
            rows.append(
                {
                    "id": patient_id,
                    "pharmacy_id": self.pharmacy_id,
                    "birth_name": person.birth_name.upper(),
                    "first_names": person.first_names.upper(),
                    "used_name": person.used_name.upper() if person.used_name else None,
                    "used_first_name": person.used_first_name.upper() if person.used_first_name else None,
                    "sex": person.sex,
                    "birth_date": person.birth_date,
                    "birth_place_code": person.birth_place_code,
                    "vitale_nir": vitale_nir if has_vitale else None,
                    "vitale_rank": rank if has_vitale else None,
                    "complementary_rate": complementary,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            row = rows[-1]
            terms += term_rows(
                pharmacy_id=self.pharmacy_id,
                patient_id=patient_id,
                birth_name=row["birth_name"],
                first_names=row["first_names"],
                used_name=row["used_name"],
                used_first_name=row["used_first_name"],
            )
            if "ins" in self.plugins:
                ins_rows.append(self._ins_row(patient_id, row, person))
        self._insert(table, rows, report, "patients")
        self._insert(PatientSearchTerm.__table__, terms, report, "mots de recherche")
        if ins_rows:
            self._insert_ins(ins_rows, report)
        return made

    def _ins_row(self, patient_id: int, row: dict[str, Any], person: Identity) -> dict[str, Any]:
        insi_checked, document_checked = identities.ins_status(self.rng)
        return {
            "pharmacy_id": self.pharmacy_id,
            "patient_id": patient_id,
            "matricule": person.nir if insi_checked else None,
            "oid": OID_NIR if insi_checked else None,
            "traits": {
                "birth_name": row["birth_name"],
                "first_names": row["first_names"],
                "sex": row["sex"],
                "birth_date": row["birth_date"],
                "birth_place_code": row["birth_place_code"],
            }
            if insi_checked
            else {},
            "insi_checked": insi_checked,
            "document_checked": document_checked,
            "document_kind": "CNI" if document_checked else None,
            "doubtful": self.rng.random() < 0.002,
            "fictitious": False,
            "updated_at": datetime.combine(self.start, datetime.min.time(), UTC),
        }

    def _insert_ins(self, rows: list[dict[str, Any]], report: Report) -> None:
        from lgo_ins.model import InsIdentity

        table = InsIdentity.__table__
        for row, row_id in zip(rows, self._ids(table, len(rows)), strict=True):
            row["id"] = row_id
        self._insert(table, rows, report, "identités INS")

    # --- sales ------------------------------------------------------------------------------------------------

    def _opening_minutes(self) -> list[tuple[date, int]]:
        """Every invoice's day and minute after 8:30, busier on Mondays and Saturdays, closed on Sundays."""
        days = [self.start + timedelta(days=d) for d in range(365)]
        open_days = [d for d in days if d.weekday() != 6]
        weights = [1.3 if d.weekday() in (0, 5) else 1.0 for d in open_days]
        picked = self.rng.choices(open_days, weights=weights, k=self.scale.invoices)
        return sorted((day, self.rng.randint(0, 660)) for day in picked)

    def _sales(self) -> list[_Sale]:
        scale, rng = self.scale, self.rng
        moments = self._opening_minutes()
        vaccines = [p for p in self.products if p.vaccine]
        listed = [p for p in self.products if p.listed and not p.vaccine]
        otc = [p for p in self.products if not p.listed]
        # Flu season: most vaccinations from October to January.
        season = [i for i, (day, _) in enumerate(moments) if day.month in (10, 11, 12, 1)]
        pool = season if len(season) >= scale.vaccinations else list(range(len(moments)))
        vaccination_at = set(rng.sample(pool, scale.vaccinations))
        # Spread the lines beyond the first of each invoice (vaccinations have exactly two).
        counts = [2 if i in vaccination_at else 1 for i in range(len(moments))]
        others = [i for i in range(len(moments)) if i not in vaccination_at]
        for i in rng.choices(others, k=max(0, scale.lines - sum(counts))):
            counts[i] += 1
        # Some patients come every week, most a few times a year; some products sell every day, most rarely. The
        # weight is capped (one patient in a thousand reaches it): the most regular patient comes some 75 times a
        # year whatever the pharmacy's size, instead of every day in a large one (the largest of more draws grows).
        patient_weights = list(
            itertools.accumulate(min(rng.lognormvariate(0, 1.2), _MOST_REGULAR) for _ in self.patients)
        )
        listed_weights = list(itertools.accumulate(1 / (r + 1) ** 0.9 for r in range(len(listed))))
        otc_weights = list(itertools.accumulate(1 / (r + 1) ** 0.9 for r in range(len(otc))))
        last_prescription: dict[int, tuple[int, date]] = {}
        self.prescriptions: list[dict[str, Any]] = []
        prescription_ids = iter(self._ids(Prescription.__table__, scale.invoices))
        sales = []
        for i, (day, minute) in enumerate(moments):
            at = self._at(day, minute)
            seller = rng.choice(self.sellers)
            if i in vaccination_at:
                patient_id, complementary, _ = rng.choice(self.patients)
                vaccine = rng.choices(vaccines, weights=[p.vaccine[1] for p in vaccines if p.vaccine])[0]
                assert vaccine.vaccine is not None
                prescription = self._prescription(patient_id, day, at, next(prescription_ids), "Pharmacien vaccinateur")
                lines = [_Line(vaccine, None, 1), _Line(None, vaccine.vaccine[0], 1)]
                sales.append(
                    _Sale(at, patient_id, complementary, prescription, rng.choice(self.pharmacists), lines, True)
                )
                continue
            on_prescription = rng.random() < 0.6
            patient_id: int | None
            complementary = 0
            if on_prescription or rng.random() < 0.4:
                patient_id, complementary, _ = rng.choices(self.patients, cum_weights=patient_weights)[0]
            else:
                patient_id = None
            prescription = None
            if on_prescription and patient_id is not None:
                previous = last_prescription.get(patient_id)
                if previous is not None and (day - previous[1]).days < 90 and rng.random() < 0.5:
                    prescription = previous[0]  # a renewal of the same prescription
                else:
                    prescription = self._prescription(patient_id, day, at, next(prescription_ids), None)
                    last_prescription[patient_id] = (prescription, day)
            catalogue, weights = (
                (listed, listed_weights) if prescription is not None and rng.random() < 0.85 else (otc, otc_weights)
            )
            lines = []
            for _ in range(counts[i]):
                product = rng.choices(catalogue, cum_weights=weights)[0]
                lines.append(_Line(product, None, rng.choices((1, 2, 3), weights=(80, 15, 5))[0]))
            sales.append(_Sale(at, patient_id, complementary, prescription, seller, lines))
        return sales

    def _prescription(self, patient_id: int, day: date, at: datetime, prescription_id: int, who: str | None) -> int:
        self.prescriptions.append(
            {
                "id": prescription_id,
                "pharmacy_id": self.pharmacy_id,
                "patient_id": patient_id,
                "prescriber_rpps": None,
                "prescriber_name": who or f"Dr {identities.family_name(self.rng)}",
                "prescribed_on": day - timedelta(days=self.rng.randint(0, 10)),
                "source": PrescriptionSource.ELECTRONIC if self.rng.random() < 0.3 else PrescriptionSource.PAPER,
                "external_id": None,
                "created_at": at,
            }
        )
        return prescription_id

    # --- stock ------------------------------------------------------------------------------------------------

    def _stock(self, sales: list[_Sale], report: Report) -> None:
        """Lots received before the units they serve (a delivery every few weeks), every sale from the lot that
        was on the shelf; each lot keeps a small remainder, so stock never goes below zero."""
        sold: dict[int, list[tuple[datetime, _Line]]] = {}
        for sale in sales:
            for line in sale.lines:
                if line.product is not None:
                    sold.setdefault(line.product.id, []).append((sale.at, line))
        lot_table, movement_table = Lot.__table__, Movement.__table__
        lots, receptions = [], []
        for product in self.products:
            history = sold.get(product.id, [])
            deliveries = max(1, min(12, len(history) // 20))
            per_delivery = -(-len(history) // deliveries) if history else 0
            for n in range(deliveries):
                chunk = history[n * per_delivery : (n + 1) * per_delivery]
                first = chunk[0][0] if chunk else datetime.combine(self.until, datetime.min.time(), UTC)
                received = first - timedelta(days=self.rng.randint(1, 10))
                units = sum(line.quantity for _, line in chunk) + self.rng.randint(3, 30)
                (lot_id,) = self._ids(lot_table, 1)
                for _, line in chunk:
                    line.lot_id = lot_id
                lots.append(
                    {
                        "id": lot_id,
                        "pharmacy_id": self.pharmacy_id,
                        "product_id": product.id,
                        "lot_number": f"B{product.id % 10000:04d}{n:02d}",
                        "expiry": (received + timedelta(days=self.rng.randint(800, 1100))).date(),
                    }
                )
                receptions.append(
                    {
                        "pharmacy_id": self.pharmacy_id,
                        "lot_id": lot_id,
                        "quantity": units,
                        "kind": MovementKind.RECEPTION,
                        "forced": False,
                        "reason": "",
                        "operator_id": self.sellers[-1],
                        "invoice_id": None,
                        "at": received,
                    }
                )
        self._insert(lot_table, lots, report, "lots")
        self.movements = receptions
        self.movement_table = movement_table

    # --- billing ----------------------------------------------------------------------------------------------

    def _billing(self, sales: list[_Sale], report: Report) -> list[int]:
        invoice_table, line_table = Invoice.__table__, InvoiceLine.__table__
        invoice_ids = list(self._ids(invoice_table, len(sales)))
        line_ids = iter(self._ids(line_table, sum(len(s.lines) for s in sales)))
        invoices, lines, dispensations, audits = [], [], [], []
        self.ordonnancier = 0
        for number, (sale, invoice_id) in enumerate(zip(sales, invoice_ids, strict=True), start=1):
            totals = [0, 0, 0, 0]
            for position, line in enumerate(sale.lines, start=1):
                if line.product is not None:
                    price, rate, label = (
                        line.product.price,
                        line.product.rate if sale.prescription else 0,
                        line.product.label,
                    )
                else:
                    assert line.act is not None
                    price, rate, label = _ACT_FEES[line.act]
                shares = compute_shares(line.quantity * price, rate, sale.complementary)
                for k, value in enumerate(
                    (shares.total_cents, shares.amo_cents, shares.amc_cents, shares.patient_cents)
                ):
                    totals[k] += value
                lines.append(
                    {
                        "id": next(line_ids),
                        "pharmacy_id": self.pharmacy_id,
                        "invoice_id": invoice_id,
                        "position": position,
                        "kind": LineKind.PRODUCT if line.product else LineKind.ACT,
                        "product_id": line.product.id if line.product else None,
                        "lot_id": line.lot_id or None,
                        "act_code": line.act,
                        "label": label,
                        "quantity": line.quantity,
                        "unit_price_cents": price,
                        "reimbursement_rate": rate,
                        "total_cents": shares.total_cents,
                        "amo_cents": shares.amo_cents,
                        "amc_cents": shares.amc_cents,
                        "patient_cents": shares.patient_cents,
                    }
                )
                if line.product is None:
                    continue
                self.movements.append(
                    {
                        "pharmacy_id": self.pharmacy_id,
                        "lot_id": line.lot_id,
                        "quantity": -line.quantity,
                        "kind": MovementKind.SALE,
                        "forced": False,
                        "reason": "",
                        "operator_id": sale.operator,
                        "invoice_id": invoice_id,
                        "at": sale.at,
                    }
                )
                if sale.prescription is not None and sale.patient is not None:
                    self.ordonnancier += 1
                    dispensations.append(
                        {
                            "pharmacy_id": self.pharmacy_id,
                            "number": self.ordonnancier,
                            "prescription_id": sale.prescription,
                            "patient_id": sale.patient,
                            "product_id": line.product.id,
                            "lot_id": line.lot_id,
                            "quantity": line.quantity,
                            "operator_id": sale.operator,
                            "invoice_id": invoice_id,
                            "validated_at": sale.at,
                            "corrects_id": None,
                            "correction_reason": "",
                        }
                    )
            invoices.append(
                {
                    "id": invoice_id,
                    "pharmacy_id": self.pharmacy_id,
                    "number": number,
                    "patient_id": sale.patient,
                    "prescription_id": sale.prescription,
                    "operator_id": sale.operator,
                    "total_cents": totals[0],
                    "amo_cents": totals[1],
                    "amc_cents": totals[2],
                    "patient_cents": totals[3],
                    "validated_at": sale.at,
                    "cancels_id": None,
                }
            )
            audits.append(
                {
                    "pharmacy_id": self.pharmacy_id,
                    "at": sale.at,
                    "actor": "kernel",
                    "operator_id": sale.operator,
                    "patient_id": sale.patient,
                    "action": "billing.validated",
                    "message_fr": f"Facture n° {number} validée ({len(sale.lines)} ligne(s)).",
                    "object_type": "invoice",
                    "object_id": str(invoice_id),
                    "details": {},
                }
            )
        self._insert(Prescription.__table__, self.prescriptions, report, "ordonnances")
        self._insert(invoice_table, invoices, report, "factures")
        self._insert(line_table, lines, report, "lignes de facture")
        self._with_ids(self.movement_table, self.movements)
        self._insert(self.movement_table, self.movements, report, "mouvements de stock")
        self._with_ids(Dispensation.__table__, dispensations)
        self._insert(Dispensation.__table__, dispensations, report, "lignes d'ordonnancier")
        self._with_ids(AuditEntry.__table__, audits)
        self._insert(AuditEntry.__table__, audits, report, "entrées du journal")
        return invoice_ids

    def _with_ids(self, table: Table, rows: list[dict[str, Any]]) -> None:
        for row, row_id in zip(rows, self._ids(table, len(rows)), strict=True):
            row["id"] = row_id

    # --- documents and their sending ------------------------------------------------------------------------------

    def _documents(self, sales: list[_Sale], invoice_ids: list[int], report: Report) -> None:
        """A note de vaccination per vaccination, interviews and medication reviews, each validated and sent to the
        DMP through the outbox (most delivered, a few dead or waiting), some also sent by MSSanté."""
        report(f"{self.label} : documents de santé et file d'envoi…")
        vaccinations = [(s, i) for s, i in zip(sales, invoice_ids, strict=True) if s.vaccination]
        documents: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        document_ids = iter(self._ids(HealthDocument.__table__, len(vaccinations) + self.scale.documents))
        for sale, invoice_id in vaccinations:
            assert sale.patient is not None
            vaccine = sale.lines[0]
            assert vaccine.product is not None
            document_id = next(document_ids)
            documents.append(
                self._document(document_id, sale.patient, sale.operator, sale.at, "vaccination", invoice_id)
            )
            notes.append(
                {
                    "pharmacy_id": self.pharmacy_id,
                    "patient_id": sale.patient,
                    "operator_id": sale.operator,
                    "invoice_id": invoice_id,
                    "product_id": vaccine.product.id,
                    "vaccine_label": vaccine.product.label,
                    "cip13": cip13_of(self.products.index(vaccine.product) + 1),
                    "cis": None,
                    "atc": None,
                    "disease_fr": "Grippe" if vaccine.act == "VGP" else "Vaccination",
                    "lot_number": f"B{vaccine.product.id % 10000:04d}",
                    "lot_expiry": None,
                    "act_code": sale.lines[1].act,
                    "act_type": "IMMUNIZ",
                    "route_code": "20035000",
                    "site_code": "16217701000119102",
                    "administered_at": sale.at,
                    "comment": "",
                    "status": "validated",
                    "hidden_from_patient": False,
                    "masked_from_professionals": False,
                    "document_id": document_id,
                    "replaces_note_id": None,
                    "validated_by": sale.operator,
                    "created_at": sale.at,
                }
            )
        for _ in range(self.scale.documents):
            patient_id = self.rng.choice(self.patients)[0]
            at = self._at(self.start + timedelta(days=self.rng.randint(0, 364)), self.rng.randint(0, 600))
            operator = self.rng.choice(self.pharmacists)
            document_id = next(document_ids)
            bpm = self.rng.random() < 0.4
            documents.append(self._document(document_id, patient_id, operator, at, "bpm" if bpm else "entretien", None))
            records.append(
                {
                    "pharmacy_id": self.pharmacy_id,
                    "patient_id": patient_id,
                    "operator_id": operator,
                    "kind": "bpm" if bpm else "entretien",
                    "theme": "BPM" if bpm else self.rng.choice(("AVK", "AOD", "ASTHME")),
                    "act_code": None,
                    "held_on": at.date(),
                    "analysis": "Analyse fictive du banc d'essai.",
                    "recommendations": "Poursuivre le traitement.",
                    "medications": [],
                    "document_id": document_id,
                    "created_at": at,
                }
            )
        self._insert(HealthDocument.__table__, documents, report, "documents")
        if notes and "vaccination" in self.plugins:
            from lgo_vaccination.model import VaccinationNote

            self._with_ids(VaccinationNote.__table__, notes)
            self._insert(VaccinationNote.__table__, notes, report, "notes de vaccination")
        if records and "entretiens" in self.plugins:
            from lgo_entretiens.model import InterviewRecord

            self._with_ids(InterviewRecord.__table__, records)
            self._insert(InterviewRecord.__table__, records, report, "entretiens")
        self._outbox(documents, report)

    def _document(
        self, document_id: int, patient_id: int, operator: int, at: datetime, kind: str, invoice_id: int | None
    ) -> dict[str, Any]:
        type_code, type_display, title = {
            "vaccination": ("87273-9", "Note de vaccination", "Note de vaccination"),
            "entretien": ("78601-2", "CR d'entretien pharmaceutique", "Compte rendu d'entretien pharmaceutique"),
            "bpm": ("56445-0", "Bilan médicamenteux", "Bilan partagé de médication"),
        }[kind]
        unique_id = self._uid()
        return {
            "id": document_id,
            "pharmacy_id": self.pharmacy_id,
            "patient_id": patient_id,
            "author_operator_id": operator,
            "unique_id": unique_id,
            "set_id": self._uid(),
            "version": 1,
            "type_code": type_code,
            "type_display": type_display,
            "title": title,
            "status": DocumentStatus.VALIDATED,
            "confidentiality": "N",
            "hidden_from_patient": False,
            "hidden_from_legal_representatives": False,
            "masked_from_professionals": False,
            "mime_type": "text/xml",
            "content": _cda_shell(unique_id, type_code, title, at, body_bytes=1500 if kind == "vaccination" else 3500),
            "source_plugin": "vaccination" if kind == "vaccination" else "entretiens",
            "source_ref": None,
            "invoice_id": invoice_id,
            "replaces_id": None,
            "created_at": at,
            "validated_at": at,
            "validated_by": operator,
            "status_changed_at": at,
            "status_reason": None,
        }

    def _outbox(self, documents: list[dict[str, Any]], report: Report) -> None:
        messages, submissions = [], []
        for document in documents:
            roll = self.rng.random()
            status = (
                OutboxStatus.DELIVERED if roll < 0.97 else OutboxStatus.DEAD if roll < 0.98 else OutboxStatus.PENDING
            )
            at = document["validated_at"]
            attempts = 1 if status is OutboxStatus.DELIVERED and self.rng.random() < 0.9 else self.rng.randint(2, 8)
            if status is OutboxStatus.PENDING:
                attempts = 0
            messages.append(
                {
                    "pharmacy_id": self.pharmacy_id,
                    "plugin": "dmp",
                    "kind": "dmp.send",
                    "idempotency_key": f"dmp:send:{document['unique_id']}",
                    "payload": {"document_id": document["id"]},
                    "patient_id": document["patient_id"],
                    "status": status,
                    "attempts": attempts,
                    "max_attempts": 8,
                    "next_attempt_at": at,
                    "lease_until": None,
                    "locked_by": None,
                    "last_error": "DmpUnavailable: le DMP ne répond pas" if status is OutboxStatus.DEAD else None,
                    "created_at": at,
                    "delivered_at": at + timedelta(seconds=self.rng.randint(2, 600))
                    if status is OutboxStatus.DELIVERED
                    else None,
                }
            )
            if document["type_code"] == "56445-0" and self.rng.random() < 0.3:
                messages.append(
                    {
                        **messages[-1],
                        "plugin": "mssante",
                        "kind": "mssante.send",
                        "idempotency_key": f"mssante:send:{document['unique_id']}",
                        "status": OutboxStatus.DELIVERED,
                        "attempts": 1,
                        "last_error": None,
                        "delivered_at": at + timedelta(seconds=30),
                    }
                )
            if "dmp" in self.plugins:
                sent = status is OutboxStatus.DELIVERED
                submissions.append(
                    {
                        "pharmacy_id": self.pharmacy_id,
                        "document_id": document["id"],
                        "patient_id": document["patient_id"],
                        "unique_id": document["unique_id"],
                        "status": "sent" if sent else "failed" if status is OutboxStatus.DEAD else "queued",
                        "reason_fr": None if sent else "nouvel essai prévu : le DMP ne répond pas",
                        "attempts": attempts,
                        "last_error": None,
                        "result": "registered" if sent else None,
                        "sends": 0,
                        "created_at": at,
                        "updated_at": at,
                        "sent_at": at if sent else None,
                    }
                )
        self._with_ids(OutboxMessage.__table__, messages)
        self._insert(OutboxMessage.__table__, messages, report, "messages de la file d'envoi")
        if submissions:
            from lgo_dmp.model import DmpSubmission

            self._with_ids(DmpSubmission.__table__, submissions)
            self._insert(DmpSubmission.__table__, submissions, report, "envois au DMP")


def _plain(value: Any) -> Any:
    """A value as COPY takes it: an enumeration by its stored value, JSON as JSON."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | list):
        from psycopg.types.json import Json

        return Json(value)
    return value


def _quiet(_message: str) -> None:
    pass


_PASSWORD_HASH: list[str] = []


def _password_hash() -> str:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))  # scrypt is slow on purpose: once per run
    return _PASSWORD_HASH[0]


_FILLER = base64.b64encode(bytes(range(256)) * 40).decode()


def _cda_shell(unique_id: str, type_code: str, title: str, at: datetime, *, body_bytes: int) -> bytes:
    """A CDA header with a body of about ``body_bytes``: the size of a real note, not a checked document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>'
        f'<id root="{unique_id}"/><code code="{type_code}" codeSystem="2.16.840.1.113883.6.1"/>'
        f'<title>{title}</title><effectiveTime value="{at:%Y%m%d%H%M%S}+0000"/>'
        f'<component><nonXMLBody><text mediaType="application/pdf" representation="B64">{_FILLER[:body_bytes]}'
        "</text></nonXMLBody></component></ClinicalDocument>"
    ).encode()


def _move_sequences_past_ids(connection: Connection) -> None:
    """Ids were chosen here: PostgreSQL's sequences must start after them for the counter's own inserts."""
    for table in inspect(connection).get_table_names():
        columns = {c["name"] for c in inspect(connection).get_columns(table)}
        if "id" not in columns:
            continue
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
        if sequence:
            connection.execute(
                text(f'SELECT setval(:s, COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'), {"s": sequence}
            )


def volumes(years: Iterable[PharmacyYear]) -> dict[str, int]:
    total: dict[str, int] = {}
    for year in years:
        for table, count in year.counts.items():
            total[table] = total.get(table, 0) + count
    return total
