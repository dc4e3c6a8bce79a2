"""Consulting the Dossier Pharmaceutique at the counter against reading the same rows raw (issue 23's measure)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from lgo.counter import Counter
from lgo.demo_data import seed
from lgo.domain.billing import Invoice
from lgo.domain.dispensing import Dispensation
from lgo.domain.pharmacy import Pharmacy
from lgo.domain.products import product_by_cip13
from lgo.domain.stock import receive
from lgo.kernel import Kernel
from measure import Result, best_of, progress


def bench_dp_consultation(consultations: int, workdir: Path) -> Result | None:
    """A patient's DP of 300 lines from 5 pharmacies (60 of them dispensed here and fed through the outbox): the
    consultation as the counter asks it (habilitation, identity, audit before and after, HTTPS call to the DP sandbox
    with mutual TLS, merge with the ordonnancier, flags against the billing) against reading the same rows raw (the
    same HTTPS call, its JSON, and a plain SQL query of this pharmacy's lines)."""
    try:
        import httpx
        import lgo_dp.plugin
        from lgo_dp import consent, consultation
        from lgo_dp.json_driver import JsonHttpsTransport
        from lgo_dp.transport import DispensedLine, DpPatient, Professional
        from lgo_sandbox.dp import start_dp_sandbox
        from lgo_sandbox.pki import TestAuthority
    except ImportError:
        progress("  DP : module absent, mesure ignorée.")
        return None
    from lgo.api import TlsEndpoint
    from lgo.demo_data import CATALOGUE
    from lgo.identifiers import with_luhn
    from lgo.testing.fakes import FakeIdentityPlugin
    from lgo.worker import Worker
    from sqlalchemy import select

    own_lines, other_pharmacies, per_other = 60, 4, 60
    progress(
        f"  DP : {consultations} consultations d'un DP de {own_lines + other_pharmacies * per_other} lignes "
        f"({other_pharmacies + 1} officines), puis lecture brute des mêmes lignes…"
    )
    identity = FakeIdentityPlugin("ins")
    kernel = Kernel(
        f"sqlite:///{workdir / 'dp.sqlite'}", discover_installed=False, extra_plugins=(lgo_dp.plugin, identity)
    )
    kernel.upgrade_database()
    kernel.start()
    authority = TestAuthority(workdir / "dp-pki")
    server, _sandbox = start_dp_sandbox(authority)
    try:
        with kernel.transaction() as session:
            seeded = seed(session)
            pharmacy, patient, operator = seeded.pharmacy_id, seeded.patients["camille"], seeded.operators["titulaire"]
            finess = session.get(Pharmacy, pharmacy).finess  # type: ignore[union-attr]
            for key in ("paracetamol", "serum"):
                product = product_by_cip13(session, pharmacy, seeded.products[key])
                receive(session, pharmacy, product, lot_number=f"BANC-{key}", expiry=date(2099, 1, 1), quantity=500)
        for name in ("ins", "dp"):
            kernel.enable(pharmacy, name)
        credential = authority.organisation("DP", finess=finess, organisation="PHARMACIE DU BANC")
        credential.store_for(kernel, pharmacy)
        kernel.select_provider(pharmacy, "dp", "json")
        kernel.save_plugin_settings(pharmacy, "dp", {"endpoint": server.url})
        identity.qualify(kernel, pharmacy, patient)
        consent.create(kernel, pharmacy, operator, patient)
        counter = Counter(kernel, pharmacy, operator)
        for number in range(own_lines):
            billing = counter.start_billing(patient_id=patient)
            counter.add_product(billing, seeded.products["paracetamol" if number % 2 else "serum"], 1)
            counter.end_billing(billing)
        Worker(kernel, base_backoff_seconds=0.0, pharmacy_id=pharmacy).drain()
        shared = DpPatient.of(kernel.shareable_identity(pharmacy, patient))
        for index in range(other_pharmacies):
            other_finess = with_luhn(f"990000{20 + index}")
            other = authority.organisation("DP", finess=other_finess, organisation=f"PHARMACIE N° {index + 2}")
            driver = JsonHttpsTransport(TlsEndpoint(server.url, other.client(), str(other.ca_path), 10.0))
            lines = [
                DispensedLine(
                    f"{other_finess}-O{n}",
                    date.today() - timedelta(days=(n * 7 + index) % 360),
                    CATALOGUE[n % len(CATALOGUE)].cip13,
                    CATALOGUE[n % len(CATALOGUE)].label,
                    1 + n % 3,
                    f"LOT{index}-{n}",
                )
                for n in range(per_other)
            ]
            driver.feed(shared, lines, idempotency_key=f"banc-{index}")
        with kernel.transaction() as session:
            billed = [
                product_by_cip13(session, pharmacy, seeded.products[key]).id for key in ("paracetamol", "amoxicilline")
            ]
        found = consultation.consult(kernel, pharmacy, operator, patient, product_ids=billed)
        assert len(found.lines) == own_lines + other_pharmacies * per_other and found.pharmacies == 5, found.notice_fr

        def consult() -> None:
            for _ in range(consultations):
                consultation.consult(kernel, pharmacy, operator, patient, product_ids=billed)

        context = credential.client_context()
        body = {
            "patient": {**shared.__dict__, "first_names": list(shared.first_names)},
            "professionnel": Professional("Banc", "pharmacien titulaire").__dict__,
            "depuis": (date.today() - timedelta(days=365)).isoformat(),
        }

        def raw() -> None:
            for _ in range(consultations):
                with httpx.Client(base_url=server.url, verify=context) as client:
                    rows = client.post("/v1/historique", json=body).json()["lignes"]
                with kernel.engine.connect() as connection:
                    mine = connection.execute(
                        select(Dispensation.__table__, Invoice.__table__.c.number)
                        .select_from(Invoice.__table__)
                        .outerjoin(Dispensation.__table__, Dispensation.invoice_id == Invoice.id)
                        .where(Invoice.pharmacy_id == pharmacy, Invoice.patient_id == patient)
                    ).all()
                assert len(rows) == 300 and len(mine) == own_lines

        subject, baseline = best_of(3, consult), best_of(3, raw)
    finally:
        server.stop()
        kernel.close()
    return Result(
        "dp_consultation",
        "Consultation du DP fusionnée au comptoir (300 lignes, 5 officines, signalements, traces) / lecture brute des "
        "mêmes lignes (appel HTTPS du DP et requête SQL)",
        f"officine de démonstration, SQLite ; DP de {own_lines + other_pharmacies * per_other} lignes de "
        f"{other_pharmacies + 1} officines",
        subject,
        baseline,
        consultations,
    )
