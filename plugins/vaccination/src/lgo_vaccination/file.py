"""The vaccination record in the patient's file at the counter, as the DMP's « carnet de vaccination » shows it:
date, vaccine, disease, lot, vaccinator, who added it, status.

The section lists this pharmacy's notes from the database at once. When the ``dmp`` plugin is active, the identity
qualified and the operator allowed to consult the DMP, the record joined with the DMP's vaccinations comes as the
section's *fragment* (:func:`record_page`), fetched after the file is shown: the DMP plugin checks and traces that
consultation with the operator's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, render_template, request
from lgo.api import (
    FileLink,
    FileRow,
    LgoError,
    Operator,
    Patient,
    PatientFileSection,
    get_scoped,
    signed_in,
    web_kernel,
)

from lgo_vaccination import service

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientFileView

COLUMNS_FR = ("Date de l'acte", "Vaccin", "Maladie(s)", "Lot", "Vaccinateur", "Ajouté par", "Statut")


def cells(line: service.RecordLine) -> tuple[str, ...]:
    return (
        line.date.strftime("%d/%m/%Y"),
        line.vaccine,
        line.disease,
        line.lot or "—",
        line.vaccinator,
        line.added_by,
        line.status,
    )


def may_join_dmp(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> bool:
    """The DMP's vaccinations are offered only to an operator who may consult it, for a qualified identity."""
    if not kernel.is_active(pharmacy_id, "dmp") or not kernel.is_identity_shareable(pharmacy_id, patient_id):
        return False
    from lgo_dmp import api as dmp

    with kernel.transaction() as db:
        operator = db.get(Operator, operator_id)
        return operator is not None and operator.has(dmp.HABILITATION_CONSULT)


def sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    local = service.vaccination_record(kernel, view.pharmacy_id, view.patient_id)
    joined = may_join_dmp(kernel, view.pharmacy_id, view.operator_id, view.patient_id)
    fragment = (
        FileLink("Carnet de vaccination avec le DMP", "vaccination.record", (("patient_id", view.patient_id),))
        if joined
        else None
    )
    return [
        PatientFileSection(
            "vaccinations",
            "Vaccinations",
            lines_fr=(
                "Les vaccinations du DMP s'ajoutent ci-dessous à celles de l'officine (consultation tracée)."
                if joined
                else "Vaccinations enregistrées par l'officine (le DMP n'est pas consulté : identité non qualifiée, "
                "module DMP inactif ou habilitation absente).",
            ),
            columns_fr=() if joined else COLUMNS_FR,
            rows=() if joined else tuple(FileRow(cells(line)) for line in local),
            empty_fr="Aucune vaccination enregistrée par l'officine.",
            fragment=fragment,
            order=30,
        )
    ]


# --- the fragment: the record joined with the DMP's ---------------------------------------------------------

blueprint = Blueprint("vaccination", __name__, template_folder="templates")


@blueprint.route("/patients/<patient_id>/carnet")
def record(patient_id: str) -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    with kernel.transaction() as db:
        patient = get_scoped(db, Patient, patient_id, pharmacy_id, "patient").id
    error_fr = ""
    try:
        lines = service.full_record(kernel, pharmacy_id, operator_id, patient)
    except LgoError as exc:  # the DMP refused or did not answer: the pharmacy's own notes, and why
        error_fr = exc.message_fr
        lines = service.vaccination_record(kernel, pharmacy_id, patient)
    template = (
        "vaccination/record_fragment.html" if request.headers.get("X-LGO-Fragment") else "vaccination/record.html"
    )
    return render_template(
        template, rows=[cells(line) for line in lines], columns=COLUMNS_FR, error_fr=error_fr, patient_id=patient
    )
