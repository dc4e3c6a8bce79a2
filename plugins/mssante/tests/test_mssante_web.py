"""The MSSanté page of the administrator's site: the titulaire declares the organisational mailbox and gives a
habilitation; the quarantine and its reason are visible; a read-only role cannot change anything."""

from __future__ import annotations

import re
from typing import Any

from lgo.demo_data import PASSWORD
from lgo_mssante.model import Habilitation, MssAccount, MssHabilitation
from lgo_sandbox.mss.documents import professional_cda, reply_with_xdm
from mss_helpers import DOCTOR_BOX, MssWorld
from sqlalchemy import select


def _signed_in(world: MssWorld, code: str) -> Any:
    from lgo_web import create_app

    client = create_app(world.kernel, secure_cookies=False).test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    assert (
        client.post("/connexion", data={"code": code, "password": PASSWORD, "csrf_token": token.group(1)}).status_code
        == 302
    )
    return client


def _token(client: Any) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/plugins/mssante/").get_data(as_text=True))
    assert found
    return found.group(1)


def test_the_titulaire_declares_the_mailbox_and_sees_the_quarantine(mss_org_world: MssWorld) -> None:
    world = mss_org_world
    client = _signed_in(world, "titulaire")
    added = client.post(
        "/plugins/mssante/boites",
        data={"address": "secretariat@pharmacie-demo.mssante.fr", "password": "s3cret", "csrf_token": _token(client)},
    )
    assert added.status_code == 302
    with world.kernel.transaction() as session:
        box = (
            session.scalars(select(MssAccount).where(MssAccount.address == "secretariat@pharmacie-demo.mssante.fr"))
            .one()
            .id
        )
    adjoint = world.seeded.operators["adjoint"]
    granted = client.post(
        "/plugins/mssante/habilitations",
        data={"account_id": box, "operator_id": adjoint, "habilitation": "Gestionnaire", "csrf_token": _token(client)},
    )
    assert granted.status_code == 302
    with world.kernel.transaction() as session:
        right = session.scalars(select(MssHabilitation).where(MssHabilitation.account_id == box)).one()
        assert right.operator_id == adjoint and right.habilitation == Habilitation.GESTIONNAIRE

    stranger = world.identity.identity(world.patient)
    from dataclasses import replace

    stranger = replace(
        stranger,
        matricule="180017512300115",
        birth_name="INCONNU-DEMO",
        first_names=("PIERRE",),
        sex="M",
        birth_date="1980-01-01",
    )
    world.sandbox.deliver(
        DOCTOR_BOX,
        [world.own_box],
        reply_with_xdm(sender=DOCTOR_BOX, to=world.own_box, cda=professional_cda(stranger)).as_bytes(),
    )
    fetched = client.post("/plugins/mssante/relever", data={"csrf_token": _token(client)}, follow_redirects=True)
    page = fetched.get_data(as_text=True)
    assert "1 mis en quarantaine" in page
    # The new mailbox does not exist on the server: said, and the others are fetched all the same.
    assert "Boîte secretariat@pharmacie-demo.mssante.fr non relevée" in page
    assert "en quarantaine (erreur 902) : patient inconnu de l&#39;officine" in page
    assert "secretariat@pharmacie-demo.mssante.fr" in page and "Gestionnaire" in page


def test_a_read_only_role_cannot_declare_a_mailbox(mss_org_world: MssWorld) -> None:
    client = _signed_in(mss_org_world, "adjoint")
    refused = client.post(
        "/plugins/mssante/boites",
        data={"address": "pirate@pharmacie-demo.mssante.fr", "password": "x", "csrf_token": _token(client)},
    )
    assert refused.status_code == 403
    with mss_org_world.kernel.transaction() as session:
        assert not session.scalars(
            select(MssAccount).where(MssAccount.address == "pirate@pharmacie-demo.mssante.fr")
        ).all()


def test_the_titulaire_declares_a_nominative_mailbox_with_its_certificate(mss_org_world: MssWorld) -> None:
    """The Mailiz box of a pharmacist, declared on the page with the personal PKCS#12: once the provider is
    « mailiz », the box is fetched with that certificate and the reply is integrated."""
    import io

    from lgo_mssante.model import AccountKind
    from mss_helpers import PASSWORDS, PHARMACIST_BOX

    world = mss_org_world
    client = _signed_in(world, "titulaire")
    person = world.authority.person("99999000013", given_name="Titulaire", surname="TILLEULS", email=PHARMACIST_BOX)
    form = {"operator_id": str(world.pharmacist), "address": PHARMACIST_BOX, "password": PASSWORDS[PHARMACIST_BOX]}

    wrong = client.post(
        "/plugins/mssante/boites-nominatives",
        content_type="multipart/form-data",
        data={
            **form,
            "passphrase": "pas-le-bon",
            "csrf_token": _token(client),
            "certificate": (io.BytesIO(person.pkcs12("p12-perso")), "titulaire.p12"),
        },
        follow_redirects=True,
    )
    assert "mot de passe incorrect" in wrong.get_data(as_text=True)
    with world.kernel.transaction() as session:  # nothing half-written
        assert not session.scalars(select(MssAccount).where(MssAccount.kind == AccountKind.PERSONAL)).all()

    added = client.post(
        "/plugins/mssante/boites-nominatives",
        content_type="multipart/form-data",
        data={
            **form,
            "passphrase": "p12-perso",
            "csrf_token": _token(client),
            "certificate": (io.BytesIO(person.pkcs12("p12-perso")), "titulaire.p12"),
        },
        follow_redirects=True,
    )
    assert f"Boîte nominative {PHARMACIST_BOX} enregistrée" in added.get_data(as_text=True)

    world.kernel.select_provider(world.pharmacy_id, "mssante", "mailiz")
    world.sandbox.deliver(
        DOCTOR_BOX,
        [PHARMACIST_BOX],
        reply_with_xdm(
            sender=DOCTOR_BOX, to=PHARMACIST_BOX, cda=professional_cda(world.identity.identity(world.patient))
        ).as_bytes(),
    )
    fetched = client.post("/plugins/mssante/relever", data={"csrf_token": _token(client)}, follow_redirects=True)
    assert "1 message(s) intégré(s)" in fetched.get_data(as_text=True)


def test_the_administrator_who_declares_a_pharmacists_mailbox_is_the_actor_in_the_audit_log(
    lgo_make_kernel: Any, lgo_seeded: Any, tmp_path: Any
) -> None:
    """The owner of the mailbox is named in the entry; the operator who acted is the administrator, by name."""
    import io

    import lgo_mssante.plugin
    from lgo.domain.audit import AuditEntry
    from lgo.domain.pharmacy import Operator
    from lgo_sandbox.pki import TestAuthority
    from lgo_web import create_app

    kernel = lgo_make_kernel(lgo_mssante.plugin)
    pharmacy, admin, titulaire = (
        lgo_seeded.pharmacy_id,
        lgo_seeded.operators["admin"],
        lgo_seeded.operators["titulaire"],
    )
    kernel.enable(pharmacy, "mssante")
    client = create_app(kernel, secure_cookies=False).test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/connexion").get_data(as_text=True))
    assert token
    client.post("/connexion", data={"code": "admin", "password": PASSWORD, "csrf_token": token.group(1)})
    person = TestAuthority(tmp_path / "pki").person("99999000013", given_name="Claire", surname="DURAND")
    added = client.post(
        "/plugins/mssante/boites-nominatives",
        content_type="multipart/form-data",
        data={
            "operator_id": str(titulaire),
            "address": "claire.durand@pharmacie.mssante.fr",
            "password": "secret-de-boite",
            "passphrase": "p12",
            "csrf_token": _token(client),
            "certificate": (io.BytesIO(person.pkcs12("p12")), "durand.p12"),
        },
        follow_redirects=True,
    )
    assert "Boîte nominative claire.durand@pharmacie.mssante.fr enregistrée" in added.get_data(as_text=True)
    with kernel.transaction() as session:
        owner = session.get(Operator, titulaire)
        by = session.get(Operator, admin)
        assert owner is not None and by is not None
        entries = {
            e.action: e
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(["mssante.account", "certificate.stored"]))
            )
        }
        assert {e.operator_id for e in entries.values()} == {admin}
        assert owner.display_name in entries["mssante.account"].message_fr
    import html

    journal = html.unescape(client.get("/exploitation").get_data(as_text=True))
    row = next(line for line in journal.splitlines() if "Boîte nominative MSSanté ajoutée pour" in line)
    assert f"<td>{by.display_name}</td>" in row and owner.display_name in row


def test_the_annuaire_page_finds_a_professional_by_town_escaped_and_goes_back_to_the_message(
    mss_org_world: MssWorld,
) -> None:
    """The counter's Annuaire Santé page (the pharmacy's API key set): a search by town lists the professionals
    (a hostile name shown as text), and each choice goes back to the message with the address added."""
    from lgo_mssante import accounts
    from lgo_sandbox.mss.annuaire import practitioner, start_annuaire_sandbox

    world = mss_org_world
    accounts.set_habilitation(world.kernel, world.pharmacy_id, world.account_id, world.pharmacist, "Gestionnaire")
    server, sandbox = start_annuaire_sandbox(
        [
            practitioner("899999000047", "MEDECIN-DEMO", "Anne", [(DOCTOR_BOX, "PER")], city="Villedémo"),
            practitioner("899999000054", "<script>x</script>PIEGE", "Léa", [("lea@med.mssante.fr", "PER")], "Ailleurs"),
        ]
    )
    try:
        current = world.kernel.plugin_settings(world.pharmacy_id, "mssante").model_dump()
        world.kernel.save_plugin_settings(
            world.pharmacy_id, "mssante", {**current, "annuaire_url": server.url, "annuaire_api_key": "cle-essai"}
        )
        client = _signed_in(world, "titulaire")
        page = client.get(f"/plugins/mssante/boite/annuaire?ville=villed&patient_id={world.patient}&to=a%40b.fr")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Anne MEDECIN-DEMO" in html and "Villedémo" in html
        assert "PIEGE" not in html and sandbox.requests[-1]["address-city"] == ["villed"]
        back = f"/plugins/mssante/boite/nouveau?patient_id={world.patient}&amp;to=a@b.fr"
        assert f'href="{back}"' in html  # Échap: back to the message as it was
        assert f'href="{back},+{DOCTOR_BOX}"' in html  # the choice keeps the typed address
        hostile = client.get("/plugins/mssante/boite/annuaire?ville=ailleurs").get_data(as_text=True)
        assert "&lt;script&gt;x&lt;/script&gt;PIEGE" in hostile and "<script>x</script>" not in hostile
    finally:
        server.stop()
