"""Shared set-up of the DP plugin's tests: two pharmacies in one database (A, the seeded one, and B), each with its
own organisation certificate, talking to one DP sandbox over HTTPS with mutual TLS; an identity double that vouches
for the patients a test qualifies, each with an INS made from its own traits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from lgo import hookimpl
from lgo.counter import BillingResult, Counter
from lgo.demo_data import Seeded
from lgo.domain.dispensing import create_prescription
from lgo.domain.patients import Patient
from lgo.domain.pharmacy import Pharmacy
from lgo.domain.products import product_by_cip13
from lgo.domain.stock import receive
from lgo.identifiers import nir_key, with_luhn
from lgo.identity import OID_TEST, SharedIdentity
from lgo.kernel import Kernel
from lgo.plugins.manifest import Manifest
from lgo.worker import Worker
from lgo_sandbox.pki import TestAuthority

FINESS_B = with_luhn("99000002")

#: A test that shows a behaviour independent of the database runs on SQLite only (the acceptance tests run on both):
#: the suite stays within a couple of minutes.
SQLITE_ONLY = pytest.mark.parametrize("lgo_backend", ["sqlite"])


class Identities:
    """Stands in for the identity plugin: a patient qualified by the test gets an INS built from its own traits (the
    same person in two pharmacies gets the same INS)."""

    def __init__(self) -> None:
        self.MANIFEST = Manifest(name="fake_ins", plugin_api=">=2.0,<3", label_fr="Identité (doublure de test)")
        self.identities: dict[tuple[int, int], SharedIdentity] = {}

    def qualify(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity:
        from lgo.events import IdentityQualified

        with kernel.transaction() as session:
            patient = session.get(Patient, patient_id)
            assert patient is not None
            body = (patient.vitale_nir or "")[:13]
            if not body or (patient.vitale_rank or 1) > 1:  # the holder's NIR is not the beneficiary's INS
                month = patient.birth_date_text[5:7].replace("00", "01")
                sex = "1" if patient.sex.value == "M" else "2"
                body = f"{sex}{patient.birth_date_text[2:4]}{month}99{patient_id:06d}"
            identity = SharedIdentity(
                patient_id=patient_id,
                matricule=f"{body}{nir_key(body):02d}",
                oid=OID_TEST,
                birth_name=patient.birth_name,
                first_names=tuple(patient.first_names.split()),
                sex=patient.sex.value,
                birth_date=patient.birth_date_text,
                birth_place_code=patient.birth_place_code,
            )
        self.identities[(pharmacy_id, patient_id)] = identity
        kernel.hooks.on_identity_qualified(IdentityQualified(pharmacy_id, None, patient_id))
        return identity

    def demote(self, pharmacy_id: int, patient_id: int) -> None:
        self.identities.pop((pharmacy_id, patient_id), None)

    @hookimpl
    def lgo_shareable_identity(self, kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
        return self.identities.get((pharmacy_id, patient_id))


@dataclass
class DpWorld:
    kernel: Kernel
    sandbox: Any
    url: str
    authority: TestAuthority
    identities: Identities
    a: Seeded
    finess: dict[int, str] = field(default_factory=dict)
    _b: Seeded | None = None

    @property
    def b(self) -> Seeded:
        """Pharmacy B, set up on first use (seeding a pharmacy costs a second)."""
        if self._b is None:
            from lgo.demo_data import seed

            with self.kernel.transaction() as session:
                self._b = seed(session, finess=FINESS_B)
                session.get(Pharmacy, self._b.pharmacy_id).name = "Pharmacie du Marché (démo)"  # type: ignore[union-attr]
            configure(self, self._b, "PHARMACIE DU MARCHE")
        return self._b

    def counter(self, pharmacy: Seeded, who: str = "titulaire") -> Counter:
        return Counter(self.kernel, pharmacy.pharmacy_id, pharmacy.operators[who])

    def qualify(self, pharmacy: Seeded, patient: str = "camille") -> SharedIdentity:
        return self.identities.qualify(self.kernel, pharmacy.pharmacy_id, pharmacy.patients[patient])

    def dispense(
        self,
        pharmacy: Seeded,
        patient: str,
        products: list[tuple[str, int]],
        *,
        lot: str | None = None,
        who: str = "titulaire",
        prescription: bool = True,
    ) -> BillingResult:
        """A billing for the patient (with a prescription by default)."""
        patient_id = pharmacy.patients[patient]
        prescription_id = None
        if prescription:
            with self.kernel.transaction() as session:
                prescription_id = create_prescription(
                    session, pharmacy.pharmacy_id, patient_id, prescriber_name="Dr Démo", prescribed_on=date.today()
                ).id
        counter = self.counter(pharmacy, who)
        billing = counter.start_billing(patient_id=patient_id, prescription_id=prescription_id)
        for key, quantity in products:
            counter.add_product(billing, pharmacy.products[key], quantity, lot_number=lot)
        return counter.end_billing(billing)

    def worker(self, pharmacy: Seeded) -> Worker:
        return Worker(self.kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy.pharmacy_id)

    def turn(self, pharmacy: Seeded) -> int:
        """One turn of ``lgo worker`` for the pharmacy: its periodic jobs, then the messages due."""
        worker = self.worker(pharmacy)
        worker.run_periodic(force=True)
        return worker.run_once()

    def drain(self, pharmacy: Seeded) -> None:
        worker = self.worker(pharmacy)
        for _ in range(5):
            if not worker.drain():
                break


def configure(world: DpWorld, pharmacy: Seeded, name: str) -> None:
    """Stock, certificate (stored as the administrator does), plugins, provider and settings of one pharmacy."""
    kernel = world.kernel
    with kernel.transaction() as session:
        finess = session.get(Pharmacy, pharmacy.pharmacy_id).finess  # type: ignore[union-attr]
        for key in ("paracetamol", "amoxicilline", "levothyroxine", "metformine"):
            product = product_by_cip13(session, pharmacy.pharmacy_id, pharmacy.products[key])
            receive(
                session,
                pharmacy.pharmacy_id,
                product,
                lot_number=f"LOT-{key[:4].upper()}-{finess[-3:]}",
                expiry=date.today() + timedelta(days=300),
                quantity=50,
            )
    world.finess[pharmacy.pharmacy_id] = finess
    world.authority.organisation("DP", finess=finess, organisation=name).store_for(kernel, pharmacy.pharmacy_id)
    kernel.enable(pharmacy.pharmacy_id, "fake_ins")
    kernel.enable(pharmacy.pharmacy_id, "dp")
    kernel.select_provider(pharmacy.pharmacy_id, "dp", "json")
    kernel.save_plugin_settings(pharmacy.pharmacy_id, "dp", {"endpoint": world.url, "timeout_seconds": 3})


def make_world(
    kernel: Kernel, sandbox: tuple[Any, Any], authority: TestAuthority, a: Seeded, identities: Identities
) -> DpWorld:
    server, dp = sandbox
    world = DpWorld(kernel, dp, server.url, authority, identities, a)
    configure(world, a, "PHARMACIE DES TILLEULS")
    return world
