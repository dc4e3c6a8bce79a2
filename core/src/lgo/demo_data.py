"""A fictional pharmacy, its team, patients, catalogue and stock: for the demo and for tests.

Every person, number and product here is invented. Identifiers carry valid check digits so that they pass
the kernel's checks, in ranges chosen to avoid real ones (FINESS and RPPS in the 99… range, CIS in 69…).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from lgo.domain import stock
from lgo.domain.patients import create_patient
from lgo.domain.pharmacy import Role, create_pharmacy
from lgo.domain.products import ListCategory, create_product
from lgo.domain.team import create_operator
from lgo.identifiers import ean13_check_digit, nir_key, with_luhn
from lgo.identity import OID_TEST, SharedIdentity


def cip13(seven_digits: str) -> str:
    first12 = "34009" + seven_digits
    return first12 + str(ean13_check_digit(first12))


def nir_with_key(nir13: str) -> str:
    """A NIR's 2-digit key: 97 - (NIR mod 97), Corsica 2A/2B counted as 19/18."""
    return f"{nir13}{nir_key(nir13):02d}"


FINESS = with_luhn("99000001")
PASSWORD = "officine-demo"


@dataclass(frozen=True)
class DemoProduct:
    key: str
    cip13: str
    label: str
    price_cents: int
    rate: int
    cis: str
    atc: str | None = None
    vaccine: bool = False
    listed: ListCategory = ListCategory.NONE
    lots: tuple[tuple[str, int, int], ...] = ()  # (lot number, days before expiry, quantity)


CATALOGUE: tuple[DemoProduct, ...] = (
    DemoProduct(
        "paracetamol",
        cip13("3000011"),
        "PARACÉTAMOL LGO 1 g, comprimé, boîte de 8",
        116,
        65,
        "69000011",
        "N02BE01",
        lots=(("PA24A", 500, 40),),
    ),
    DemoProduct(
        "amoxicilline",
        cip13("3000028"),
        "AMOXICILLINE LGO 1 g, comprimé dispersible, boîte de 6",
        232,
        65,
        "69000028",
        "J01CA04",
        listed=ListCategory.LISTE_I,
        lots=(("AM23K", 20, 2), ("AM24C", 600, 20)),
    ),
    DemoProduct(
        "metformine",
        cip13("3000035"),
        "METFORMINE LGO 850 mg, comprimé pelliculé, boîte de 90",
        590,
        65,
        "69000035",
        "A10BA02",
        listed=ListCategory.LISTE_I,
        lots=(("ME24B", 700, 15),),
    ),
    DemoProduct(
        "levothyroxine",
        cip13("3000042"),
        "LÉVOTHYROXINE LGO 75 µg, comprimé, boîte de 30",
        238,
        65,
        "69000042",
        "H03AA01",
        listed=ListCategory.LISTE_I,
        lots=(("LE24F", 400, 12),),
    ),
    DemoProduct(
        "tramadol",
        cip13("3000059"),
        "TRAMADOL LGO 50 mg, gélule, boîte de 30",
        345,
        65,
        "69000059",
        "N02AX02",
        listed=ListCategory.LISTE_I,
        lots=(("TR24D", 300, 1),),
    ),
    DemoProduct(
        "serum",
        cip13("3000066"),
        "SÉRUM PHYSIOLOGIQUE LGO, unidoses de 5 ml, boîte de 40",
        390,
        0,
        "69000066",
        lots=(("SE25A", 900, 25),),
    ),
    DemoProduct(
        "grippe",
        cip13("3000073"),
        "VACCIN GRIPPAL TÉTRAVALENT DÉMO, suspension injectable en seringue préremplie 0,5 ml",
        981,
        100,
        "69000073",
        "J07BB02",
        vaccine=True,
        listed=ListCategory.LISTE_I,
        lots=(("VGD24-117", 150, 30),),
    ),
    DemoProduct(
        "pneumocoque",
        cip13("3000080"),
        "VACCIN PNEUMOCOCCIQUE CONJUGUÉ DÉMO, suspension injectable en seringue préremplie",
        5620,
        65,
        "69000080",
        "J07AL02",
        vaccine=True,
        listed=ListCategory.LISTE_I,
        lots=(("PNC24-08", 300, 6),),
    ),
    DemoProduct(
        "dtp",
        cip13("3000097"),
        "VACCIN DIPHTÉRIE-TÉTANOS-POLIOMYÉLITE DÉMO, suspension injectable en seringue préremplie",
        1132,
        65,
        "69000097",
        "J07CA01",
        vaccine=True,
        listed=ListCategory.LISTE_I,
        lots=(("DTP24-33", 500, 8),),
    ),
    DemoProduct(
        "covid",
        cip13("3000103"),
        "VACCIN COVID-19 ARNm DÉMO, dispersion injectable, flacon multidose",
        0,
        100,
        "69000103",
        "J07BN01",
        vaccine=True,
        listed=ListCategory.LISTE_I,
        lots=(("CV24-501", 60, 10),),
    ),
)


def camille_identity(patient_id: int, matricule: str) -> SharedIdentity:
    """Camille (``seed``'s first patient) as INSi returns her, qualified under ``matricule`` (test OID): for the
    test doubles and demonstration steps that stand in for an INSi call."""
    return SharedIdentity(
        patient_id=patient_id,
        matricule=matricule,
        oid=OID_TEST,
        birth_name="MARTIN-DEMO",
        first_names=("CAMILLE", "ANNE"),
        sex="F",
        birth_date="1985-03-14",
        birth_place_code="99100",
    )


@dataclass
class Seeded:
    """Ids of what :func:`seed` created, by role or key."""

    pharmacy_id: int
    operators: dict[str, int] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)  # key → CIP13
    lots: dict[str, int] = field(default_factory=dict)  # lot number → id


def seed(session: Session, *, today: date | None = None, finess: str = FINESS) -> Seeded:
    today = today or date.today()
    pharmacy = create_pharmacy(
        session,
        name="Pharmacie des Tilleuls (démo)",
        finess=finess,
        address="12 place des Tilleuls",
        postal_code="99100",
        city="Villedémo",
        test_mode=True,
    )
    seeded = Seeded(pharmacy.id)
    team = (
        ("titulaire", "CLAIRE", "Durand-Démo", Role.TITULAIRE, with_luhn("9999900001")),
        ("adjoint", "Paul", "Lemoine-Démo", Role.ADJOINT, with_luhn("9999900002")),
        ("preparatrice", "Inès", "Roux-Démo", Role.PREPARATEUR, None),
        ("admin", "Marc", "Petit-Démo", Role.ADMINISTRATEUR, None),
    )
    for code, first, last, role, rpps in team:
        operator = create_operator(
            session,
            pharmacy.id,
            code=code,
            first_name=first.title(),
            last_name=last,
            role=role,
            rpps=rpps,
            password=PASSWORD,
        )
        seeded.operators[code] = operator.id
    camille_nir = nir_with_key("2850399100123")  # Léa is her daughter, rank 2 on her carte Vitale
    people = (
        # key, birth name, first names, sex, birth date, birth place, NIR of the carte Vitale, rank, complementary %
        ("camille", "Martin-Démo", "Camille Anne", "F", "1985-03-14", "99100", camille_nir, 1, 100),
        ("jean", "Bernard-Démo", "Jean Pierre", "M", "1948-11-02", "99100", nir_with_key("1481199100045"), 1, 100),
        ("lea", "Martin-Démo", "Léa", "F", "2016-06-21", "99100", camille_nir, 2, 0),
        ("amadou", "Diallo-Démo", "Amadou", "M", "1979-00-00", "99341", None, None, 0),
    )
    for key, birth_name, first_names, sex, birth_date, place, nir, rank, rate in people:
        seeded.patients[key] = create_patient(
            session,
            pharmacy.id,
            birth_name=birth_name,
            first_names=first_names,
            sex=sex,
            birth_date=birth_date,
            birth_place_code=place,
            vitale_nir=nir,
            vitale_rank=rank,
            complementary_rate=rate,
        ).id
    for item in CATALOGUE:
        product = create_product(
            session,
            pharmacy.id,
            cip13=item.cip13,
            label=item.label,
            price_cents=item.price_cents,
            reimbursement_rate=item.rate,
            cis=item.cis,
            atc=item.atc,
            is_vaccine=item.vaccine,
            list_category=item.listed,
        )
        seeded.products[item.key] = item.cip13
        for lot_number, days, quantity in item.lots:
            lot = stock.receive(
                session,
                pharmacy.id,
                product,
                lot_number=lot_number,
                expiry=today + timedelta(days=days),
                quantity=quantity,
                operator_id=seeded.operators["preparatrice"],
            )
            seeded.lots[lot_number] = lot.id
    session.flush()
    return seeded
