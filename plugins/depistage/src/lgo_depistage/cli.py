"""``lgo depistage …``: a TROD from the command line (questionnaire, device, result, antibiotic, billing,
validation), the patient's attestation, the list of tests, the MSSanté fallback run now."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from lgo.api import french_errors, opened_pharmacy, prompt_operator


@click.group("depistage")
def depistage() -> None:
    """TROD angine, cystite, grippe et COVID-19 : réalisation, attestation, DMP et médecin traitant."""


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    from lgo.api import ValidationError

    pairs = {}
    for value in values:
        name, sep, answer = value.partition("=")
        if not sep:
            raise ValidationError(f"{what} « {value} » : écrivez nom=valeur.")
        pairs[name.strip()] = answer.strip()
    return pairs


@depistage.command("questionnaire")
@click.argument("kind", metavar="TYPE")
@french_errors
def questionnaire(kind: str) -> None:
    """Les questions d'un TROD (angine, cystite, grippe, covid, covid_grippe) et leur nom pour --reponse."""
    from lgo_depistage import service

    for question in service.questions(kind):
        marks = " (exclut du protocole si oui)" if question.excludes else ""
        optional = " [facultatif]" if not question.required else ""
        click.echo(f"{question.code} ({question.kind}){optional} : {question.label_fr}{marks}")


@depistage.command("trod")
@click.argument("patient_id", type=int)
@click.argument("kind", metavar="TYPE")
@click.option("--operateur", required=True, help="Code du pharmacien qui réalise le test.")
@click.option("--reponse", "answers", multiple=True, help="Réponse au questionnaire : nom=valeur (oui, non, 38,2…).")
@click.option("--scan", default=None, help="Le DataMatrix GS1 du test, tel que la douchette le saisit.")
@click.option("--gtin", default=None, help="GTIN du test (sans scan).")
@click.option("--lot", default=None, help="Numéro de lot du test (sans scan).")
@click.option("--peremption", type=click.DateTime(["%d/%m/%Y", "%Y-%m-%d"]), default=None, help="JJ/MM/AAAA.")
@click.option("--fabricant", default="", help="Fabricant du test (sans UDI).")
@click.option("--reference", default="", help="Référence du test (sans UDI).")
@click.option("--resultat", "results", multiple=True, required=True, help="nom=positif|négatif|indéterminé…")
@click.option("--antibiotique", default=None, help="Antibiotique du protocole (amoxicilline, fosfomycine…).")
@click.option("--cip13", default=None, help="CIP13 de la boîte délivrée.")
@click.option("--boites", type=int, default=1, show_default=True)
@click.option("--medecin", default=None, help="Nom du médecin traitant.")
@click.option("--medecin-mssante", default=None, help="Adresse MSSanté du médecin traitant.")
@click.option("--ordonnance-conditionnelle", default=None, help="Prescripteur de l'ordonnance conditionnelle.")
@click.option("--date-ordonnance", type=click.DateTime(["%d/%m/%Y", "%Y-%m-%d"]), default=None)
@click.option("--valider/--sans-valider", default=True, show_default=True, help="Valider l'attestation.")
@click.option("--attestation", type=click.Path(dir_okay=False, path_type=Path), default=None, help="PDF à écrire.")
@french_errors
def trod(
    patient_id: int,
    kind: str,
    operateur: str,
    answers: tuple[str, ...],
    scan: str | None,
    gtin: str | None,
    lot: str | None,
    peremption: object,
    fabricant: str,
    reference: str,
    results: tuple[str, ...],
    antibiotique: str | None,
    cip13: str | None,
    boites: int,
    medecin: str | None,
    medecin_mssante: str | None,
    ordonnance_conditionnelle: str | None,
    date_ordonnance: object,
    valider: bool,
    attestation: Path | None,
) -> None:
    """Réaliser un TROD de bout en bout pour le patient PATIENT_ID."""
    from lgo.api import ValidationError

    from lgo_depistage import attestations, service

    with opened_pharmacy() as (kernel, pharmacy_id):
        operator_id = prompt_operator(kernel, pharmacy_id, operateur)
        conditional = None
        if ordonnance_conditionnelle:
            if date_ordonnance is None:
                raise ValidationError("Indiquez la date de l'ordonnance conditionnelle (--date-ordonnance).")
            conditional = service.ConditionalPrescription(ordonnance_conditionnelle, _day(date_ordonnance))
        physician = service.Physician(medecin, mssante=medecin_mssante) if medecin else None
        test_id = service.start_test(
            kernel,
            pharmacy_id,
            patient_id,
            operator_id,
            kind,
            consent=True,
            conditional_prescription=conditional,
            physician=physician,
        )
        eligibility = service.answer(kernel, pharmacy_id, test_id, _pairs(answers, "Réponse"))
        click.echo(f"TROD n° {test_id} : " + ("éligible au protocole." if eligibility.eligible else "non éligible :"))
        for reason in eligibility.reasons_fr:
            click.echo(f"  – {reason}")
        service.set_device(
            kernel,
            pharmacy_id,
            test_id,
            scan=scan,
            gtin=gtin,
            lot=lot,
            expiry=_day(peremption) if peremption else None,
            maker=fabricant,
            reference=reference,
        )
        outcome = service.record_result(kernel, pharmacy_id, test_id, _pairs(results, "Résultat"))
        click.echo("Résultat : " + ("positif." if outcome.positive else "négatif ou non interprétable."))
        if outcome.antibiotics:
            click.echo("Antibiotiques du protocole : " + ", ".join(a.code for a in outcome.antibiotics) + ".")
        if antibiotique:
            if not cip13:
                raise ValidationError("Indiquez la boîte délivrée (--cip13).")
            posology = service.choose_antibiotic(kernel, pharmacy_id, test_id, antibiotique, cip13, boxes=boites)
            click.echo(f"Posologie : {posology.text_fr}.")
        elif outcome.orientation_fr:
            click.echo(outcome.orientation_fr)
        finished = service.finish(kernel, pharmacy_id, test_id, operator_id)
        click.echo(finished.summary_fr)
        if valider:
            for action in attestations.validate(kernel, pharmacy_id, test_id, operator_id):
                click.echo(f"À faire : {action.title_fr} — {action.message_fr}")
            click.echo("Attestation validée : envoi au DMP par la file d'envoi (ou au médecin traitant par MSSanté).")
        if attestation is not None:
            attestation.write_bytes(attestations.attestation_pdf(kernel, pharmacy_id, test_id))
            click.echo(f"Attestation du patient écrite dans {attestation}.")


def _day(value: object) -> date:
    return value.date() if hasattr(value, "date") else value  # type: ignore[return-value]


@depistage.command("valider")
@click.argument("test_id", type=int)
@click.option("--operateur", required=True, help="Code du pharmacien qui valide.")
@french_errors
def validate(test_id: int, operateur: str) -> None:
    """Valider l'attestation d'un TROD facturé (elle part au DMP)."""
    from lgo_depistage import attestations

    with opened_pharmacy() as (kernel, pharmacy_id):
        for action in attestations.validate(
            kernel, pharmacy_id, test_id, prompt_operator(kernel, pharmacy_id, operateur)
        ):
            click.echo(f"À faire : {action.title_fr} — {action.message_fr}")
        click.echo("Attestation validée.")


@depistage.command("attestation")
@click.argument("test_id", type=int)
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@french_errors
def attestation(test_id: int, output: Path) -> None:
    """Écrire l'attestation PDF du patient pour le TROD TEST_ID."""
    from lgo_depistage import attestations

    with opened_pharmacy() as (kernel, pharmacy_id):
        output.write_bytes(attestations.attestation_pdf(kernel, pharmacy_id, test_id))
        click.echo(f"Attestation écrite dans {output}.")


@depistage.command("liste")
@click.option("--patient", "patient_id", type=int, default=None, help="Numéro du patient (tous par défaut).")
@french_errors
def listing(patient_id: int | None) -> None:
    """Les TROD de l'officine : type, statut, résultat, médecin traitant."""
    from lgo_depistage import service

    with opened_pharmacy() as (kernel, pharmacy_id):
        lines = service.tests_for_patient(kernel, pharmacy_id, patient_id)
        for line in lines:
            click.echo(
                f"n° {line.test_id} — patient n° {line.patient_id} — {line.kind_fr} — {line.result_fr} — "
                f"{line.status_fr} — {line.fallback_fr}"
            )
        if not lines:
            click.echo("Aucun TROD.")


@depistage.command("suivi")
@french_errors
def follow_up() -> None:
    """Vérifier maintenant les envois au DMP et transmettre au médecin traitant ce que le DMP n'a pas reçu."""
    from lgo_depistage import sharing

    with opened_pharmacy() as (kernel, pharmacy_id):
        sent = sharing.follow_up(kernel, pharmacy_id)
        click.echo(f"{sent} attestation(s) envoyée(s) au médecin traitant par MSSanté.")
