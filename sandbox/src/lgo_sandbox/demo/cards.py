"""``lgo demo`` steps: the CPS signs the INSi assertion (SoftHSM card, INSi sandbox), a carte Vitale is read through
pcscd and a virtual card, then the Appli carte Vitale qualifies the identity. Each step starts what it needs on
loopback and stops it; a missing component gives one French line, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo_cards.errors import CardError

from lgo_sandbox.demo import insi_peer
from lgo_sandbox.demo.insi_peer import DEMO_IDAM

if TYPE_CHECKING:
    from lgo.demo import DemoContext, DemoStep


def steps() -> list[DemoStep]:
    from lgo.demo import DemoStep

    return [
        DemoStep("Carte CPS : déverrouillée au poste, elle signe les recherches INSi (INSI-MANU)", _cps_step),
        DemoStep("Carte Vitale : lecture des bénéficiaires et recherche INSi avec la carte", _vitale_step),
        DemoStep("Appli carte Vitale : identité qualifiée sans pièce d'identité", _apcv_step),
    ]


def _cps_step(ctx: DemoContext) -> list[str]:
    from lgo.api import Operator
    from lgo_cards import cps, operator_card, signing

    from lgo_sandbox import softhsm
    from lgo_sandbox.cps import PIN, make_test_cps

    missing = softhsm.available()
    if missing:
        return [f"Démonstration de la CPS impossible ici : {missing}."]
    from lgo_ins import counter as ins_counter
    from lgo_ins import insi

    from lgo_sandbox.insi import start_insi_sandbox

    kernel, pharmacy = ctx.kernel, ctx.pharmacy_id
    titulaire = ctx.seeded.operators["titulaire"]
    with kernel.transaction() as session:
        holder = session.get(Operator, titulaire)
        assert holder is not None and holder.rpps
        rpps = holder.rpps
    world = make_test_cps(rpps=rpps)
    card = cps.read_card(world.card.module_path, world.card.label)
    person = card.professional
    lines = [
        f"CPS lue sans code : {person.profession} {person.given_name} {person.surname}, identifiant national "
        f"{person.national_id} (certificats d'authentification et de signature présents)."
    ]
    try:
        signing.card_key(world.card.module_path, "0000", token_label=world.card.label)
    except CardError as exc:
        lines.append(f"Code porteur erroné → « {exc.message_fr} »")
    server, _service = start_insi_sandbox(world.authority, known_idams=frozenset({DEMO_IDAM}))
    saved = kernel.plugin_settings(pharmacy, "ins").model_dump()
    manu = world.authority.organisation("INSI-MANU")
    try:
        manu.store_for(kernel, pharmacy, kind="insi")
        kernel.save_plugin_settings(
            pharmacy,
            "ins",
            {
                **saved,
                "insi_endpoint": server.url,
                "authorisation_number": DEMO_IDAM,
                "mode": "INSI-MANU",
            },
        )
        kernel.save_plugin_settings(
            pharmacy,
            "cards",
            {
                **kernel.plugin_settings(pharmacy, "cards").model_dump(),
                "pkcs11_module": world.card.module_path,
                "cps_token_label": world.card.label,
            },
        )
        lines.append("INSi passe en mode INSI-MANU : chaque appel porte l'assertion signée par la CPS de l'opérateur.")
        try:
            ins_counter.operator_assertion(kernel, pharmacy, titulaire)
        except ins_counter.OperatorCardRequired as exc:
            lines.append(f"CPS pas encore déverrouillée → « {exc.message_fr} »")
        operator_card.unlock(kernel, pharmacy, titulaire, PIN)
        lines.append(
            "La titulaire déverrouille sa CPS au poste avec son code porteur : la clé reste dans la carte, "
            "seule la signature en sort."
        )
        result = insi.search_by_traits(
            ins_counter.endpoint(kernel, pharmacy),
            ins_counter.context(kernel, pharmacy, "demo"),
            birth_name="MARTIN-DEMO",
            first_names=("CAMILLE",),
            sex="F",
            birth_date="1985-03-14",
            assertion=ins_counter.operator_assertion(kernel, pharmacy, titulaire),
        )
        lines.append(
            f"Recherche INSi signée par la CPS acceptée par le bac à sable (INSI-MANU) : {result.label} "
            f"— {result.message_fr}"
        )
    finally:
        operator_card.lock(kernel, pharmacy, titulaire)
        kernel.save_plugin_settings(pharmacy, "ins", saved)
        server.stop()
    lines.append("La titulaire verrouille sa CPS en quittant le poste.")
    return lines


def _vitale_step(ctx: DemoContext) -> list[str]:
    from lgo_sandbox import vitale as virtual

    missing = virtual.VirtualReader.missing()
    if missing:
        return [f"Lecture de la carte Vitale non montrée : lecteur virtuel indisponible ({missing})."]
    try:
        reader = virtual.VirtualReader().start()
    except RuntimeError:
        return ["Lecture de la carte Vitale non montrée : le service pcscd n'a pas pu démarrer (déjà utilisé ?)."]
    try:
        return _read_and_search(ctx, reader, virtual)
    finally:
        reader.stop()


def _read_and_search(ctx: DemoContext, reader: Any, virtual: Any) -> list[str]:
    from lgo_cards import counter, vitale
    from lgo_ins import api as ins_api
    from lgo_ins import counter as ins_counter

    from lgo_sandbox.pki import TestAuthority

    kernel, pharmacy = ctx.kernel, ctx.pharmacy_id
    operator = ctx.seeded.operators["titulaire"]
    lines = []
    reader.remove()
    try:
        vitale.read_vitale("Virtual PCD")
    except CardError as exc:
        lines.append(f"Lecteur vide → « {exc.message_fr} » (le comptoir continue).")
    reader.insert(
        virtual.VirtualCard(
            virtual.VitaleData(
                "285039910012375",
                (virtual.Beneficiary("MARTIN-DEMO", "CAMILLE", "19850314", 1, nir="285039910012375"),),
                serial="0102030405",
            )
        )
    )
    card = vitale.read_vitale("Virtual PCD")
    for person in card.beneficiaries:
        lines.append(
            f"Carte Vitale lue : {person.first_name} {person.birth_name}, née le {person.birth_date}, "
            f"rang {person.rank} (ouvrant droit {card.holder_nir})."
        )
    (candidate,) = counter.candidates(kernel, pharmacy, card)
    if candidate.patient_ids:
        # The pharmacy knows her already: no second file is created (identity vigilance).
        patient = candidate.patient_ids[0]
        lines.append(f"Fiche patient correspondante trouvée ({len(candidate.patient_ids)}) : la carte y est mémorisée.")
    else:
        patient = _card_holder(ctx)
        lines.append("Aucune fiche pour cette bénéficiaire : fiche créée depuis la carte.")
    counter.remember_card(kernel, pharmacy, patient, card, candidate.beneficiary)
    ctx.notes["cards_patient"] = patient
    with tempfile.TemporaryDirectory(prefix="lgo-demo-vitale-") as directory:
        authority = TestAuthority(Path(directory) / "pki")
        server, _service = insi_peer.start(kernel, pharmacy, authority)
        try:
            actions = counter.insi_search(kernel, pharmacy, patient, operator, card, candidate.beneficiary)
            for action in actions:
                lines.append(f"Recherche INSi avec la carte Vitale → {action.title_fr} : {action.message_fr}")
                if action.kind == "ins.insi_result":
                    status = ins_counter.accept(kernel, pharmacy, patient, operator, action.data["identity"])
                    lines.append(f"Identité INSi acceptée : statut {status.value}.")
            if not actions:
                lines.append(
                    f"Identité déjà {ins_api.status(kernel, pharmacy, patient).value} à l'officine : "
                    "l'INS renvoyée par INSi est la même, rien à confirmer."
                )
        finally:
            server.stop()
    reader.insert(virtual.VirtualCard(None))
    try:
        vitale.read_vitale("Virtual PCD")
    except CardError as exc:
        lines.append(f"Une autre carte est insérée → « {exc.message_fr} »")
    return lines


def _card_holder(ctx: DemoContext) -> int:
    """The demonstration's card holder (on the virtual Vitale card and in the ApCV sandbox), created here."""
    from lgo.api import create_patient

    with ctx.kernel.transaction() as session:
        return create_patient(
            session,
            ctx.pharmacy_id,
            birth_name="MARTIN-DEMO",
            first_names="CAMILLE",
            sex="F",
            birth_date="1985-03-14",
            birth_place_code="99100",
        ).id


def _apcv_step(ctx: DemoContext) -> list[str]:
    from lgo_cards import apcv

    from lgo_sandbox.apcv import start_apcv_sandbox
    from lgo_sandbox.pki import TestAuthority

    kernel, pharmacy = ctx.kernel, ctx.pharmacy_id
    operator = ctx.seeded.operators["titulaire"]
    patient = ctx.notes.get("cards_patient")
    if patient is None:
        patient = _card_holder(ctx)
    lines = []
    with tempfile.TemporaryDirectory(prefix="lgo-demo-apcv-") as directory:
        authority = TestAuthority(Path(directory) / "pki")
        server, sandbox = start_apcv_sandbox(authority)
        try:
            organisation = authority.organisation("PHARMACIE DU CENTRE")
            endpoint = apcv.Endpoint(server.url, organisation.client(), str(authority.ca_path), 5.0)
            data = sandbox.present("camille")
            lines.append(f"La patiente présente son appli carte Vitale ; QR code scanné ({data[:12]}…).")
            identity = apcv.identify(endpoint, data)
            lines.append(
                f"Service ApCV (bac à sable) : {' '.join(identity.first_names)} {identity.birth_name}, "
                f"INS {identity.matricule} qualifiée par l'Assurance maladie."
            )
            status = apcv.qualify(kernel, pharmacy, patient, operator, identity)
            lines.append(f"Identité enregistrée sans pièce d'identité : statut {status.value}.")
            try:
                apcv.identify(endpoint, data)
            except CardError as exc:
                lines.append(f"Le même QR code présenté une seconde fois → « {exc.message_fr} »")
        finally:
            server.stop()
    return lines
