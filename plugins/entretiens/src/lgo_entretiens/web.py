"""Interviews and bilans at the counter (blueprint ``entretiens``, under ``/plugins/entretiens/``): choose the kind,
fill in its form (the BPM's medication list pre-filled from the dispensing history), keep the draft, preview the PDF,
validate — through the DMP's send window when the ``dmp`` plugin is active — then MSSanté to the médecin traitant and
the patient when chosen, and the act billed.

Only a pharmacist (habilitation ``entretiens.conduct``, an RPPS) is offered these screens; every view checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from lgo.api import (
    Kernel,
    LgoError,
    Operator,
    Patient,
    ValidationError,
    euros,
    get_scoped,
    rendering,
    signed_in,
    web_kernel,
)

from lgo_entretiens import drafts, service
from lgo_entretiens.themes import ACTS, THEMES, questions

blueprint = Blueprint("entretiens", __name__, template_folder="templates")
HABILITATION = "entretiens.conduct"
#: The kinds offered, one key each (the Assurance Maladie's accompaniments and the bilan partagé de médication).
KINDS = (("AVK", "1"), ("AOD", "2"), ("ASTHME", "3"), ("GROSSESSE", "4"), ("ANTICANCEREUX", "5"), ("BPM", "6"))


def _allowed(kernel: Kernel, pharmacy_id: int, operator_id: int) -> bool:
    with kernel.transaction() as db:
        operator = db.get(Operator, operator_id)
        return operator is not None and bool(operator.rpps) and operator.has(HABILITATION)


def _refused(message: str, patient_id: int | None, status: int = 403) -> tuple[str, int]:
    return render_template("entretiens/refused.html", message_fr=message, patient_id=patient_id), status


def _pharmacist_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the view to an operator who may not conduct interviews; give it the kernel, pharmacy and operator."""

    @wraps(view)
    def checked(**route: Any) -> Any:
        kernel = web_kernel()
        pharmacy_id, operator_id = signed_in()
        if not _allowed(kernel, pharmacy_id, operator_id):
            return _refused("Les entretiens et bilans sont conduits par un pharmacien habilité (RPPS).", None)
        return view(kernel, pharmacy_id, operator_id, **route)

    return checked


def _any_role(view: Any) -> Any:
    view.lgo_counter = True  # a counter page: posts are checked here (habilitation and RPPS), not by role
    return view


@blueprint.route("/patients/<patient_id>/nouveau", methods=["GET", "POST"])
@_any_role
@_pharmacist_only
def new(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: str) -> Any:
    with kernel.transaction() as db:
        patient = get_scoped(db, Patient, patient_id, pharmacy_id, "patient").id
    if request.method == "POST":
        kind = request.form.get("kind", "")
        if kind not in dict(KINDS):
            return _refused("Choisissez le type d'entretien (touches 1 à 6).", patient, 400)
        try:
            record = drafts.start(kernel, pharmacy_id, patient, operator_id, kind)
        except LgoError as exc:
            return _refused(exc.message_fr, patient, 400)
        return redirect(url_for("entretiens.edit", record_id=record))
    choices = [
        (code, key, "Bilan partagé de médication" if code == "BPM" else THEMES[code].label_fr) for code, key in KINDS
    ]
    return render_template("entretiens/new.html", patient_id=patient, choices=choices)


def _date(text: str) -> date:
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = (int(p) for p in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text) if text else date.today()
    except ValueError:
        raise ValidationError(f"Date invalide : « {text[:20]} » (JJ/MM/AAAA).") from None


@blueprint.route("/entretiens/<record_id>", methods=["GET", "POST"])
@_any_role
@_pharmacist_only
def edit(kernel: Kernel, pharmacy_id: int, operator_id: int, record_id: str) -> Any:
    draft = drafts.get(kernel, pharmacy_id, record_id)
    error_fr = ""
    if request.method == "POST" and not draft.validated:
        form = request.form
        try:
            drafts.update(
                kernel,
                pharmacy_id,
                draft.id,
                operator_id,
                held_on=_date(form.get("held_on", "")),
                analysis=form.get("analysis", ""),
                recommendations=form.get("recommendations", ""),
                answers={q.key: form.get(q.key, "") for q in questions(draft.theme)},
                kept_medications=form.getlist("medication") if draft.kind == "bpm" else None,
            )
        except LgoError as exc:
            error_fr = exc.message_fr
        else:
            then = form.get("then", "")
            if then == "preview":
                return redirect(url_for("entretiens.preview", record_id=draft.id))
            if then == "validate":
                return redirect(url_for("entretiens.validate", record_id=draft.id))
            flash("Brouillon enregistré.", "ok")
            return redirect(url_for("entretiens.edit", record_id=draft.id))
    return render_template(
        "entretiens/edit.html",
        draft=draft,
        patient_id=draft.patient_id,
        questions=questions(draft.theme),
        error_fr=error_fr,
    ), (400 if error_fr else 200)


@blueprint.route("/entretiens/<record_id>/apercu")
@_pharmacist_only
def preview(kernel: Kernel, pharmacy_id: int, operator_id: int, record_id: str) -> Any:
    draft = drafts.get(kernel, pharmacy_id, record_id)
    return render_template("entretiens/preview.html", draft=draft, patient_id=draft.patient_id)


@blueprint.route("/entretiens/<record_id>/apercu.pdf")
@_pharmacist_only
def preview_pdf(kernel: Kernel, pharmacy_id: int, operator_id: int, record_id: str) -> Any:
    response = Response(drafts.preview(kernel, pharmacy_id, record_id), mimetype="application/pdf")
    response.headers.update(rendering.PDF_HEADERS)
    return response


@blueprint.route("/entretiens/<record_id>/valider", methods=["GET", "POST"])
@_any_role
@_pharmacist_only
def validate(kernel: Kernel, pharmacy_id: int, operator_id: int, record_id: str) -> Any:
    """What follows the validation (médecin traitant, patient, act), then the DMP's send window or the validation."""
    draft = drafts.get(kernel, pharmacy_id, record_id)
    if draft.validated:
        return redirect(url_for("entretiens.done", record_id=draft.id))
    mssante = kernel.is_active(pharmacy_id, "mssante") and _can_send(kernel, pharmacy_id, operator_id)
    patient_box = _patient_box(kernel, pharmacy_id, draft.patient_id) if mssante else ""
    error_fr = ""
    if request.method == "POST":
        form = request.form
        try:
            doctor = form.get("doctor", "").strip()
            if doctor and mssante:
                from lgo_mssante import api as mss

                doctor = mss.addresses(doctor)[0]
            drafts.choose_follow_up(
                kernel,
                pharmacy_id,
                draft.id,
                doctor=doctor if mssante else "",
                to_patient=mssante and bool(patient_box) and form.get("to_patient") == "1",
                bill=form.get("bill") == "1",
            )
            prepared = service.prepare_document(kernel, pharmacy_id, draft.id, title=form.get("title") or None)
            if prepared.document_id is None:
                raise ValidationError(
                    "L'identité du patient n'est pas qualifiée : le compte rendu est gardé en brouillon et sera "
                    "produit après la qualification (pièce d'identité et INSi)."
                )
            if kernel.is_active(pharmacy_id, "dmp"):
                from lgo_dmp import api as dmp

                back = url_for("entretiens.done", record_id=draft.id)
                return redirect(url_for(dmp.SEND_WINDOW, document_id=prepared.document_id, next=back))
            service.validate_document(kernel, pharmacy_id, draft.id, operator_id)
            return redirect(url_for("entretiens.done", record_id=draft.id))
        except LgoError as exc:
            error_fr = exc.message_fr
    chosen = next((a for a in ACTS if a.code == draft.act_code), None)
    return render_template(
        "entretiens/validate.html",
        draft=draft,
        patient_id=draft.patient_id,
        mssante=mssante,
        patient_box=patient_box,
        act=chosen,
        fee=euros(chosen.fee_cents) if chosen else "",
        title=service.current_title(kernel, pharmacy_id, draft.id),
        error_fr=error_fr,
    ), (400 if error_fr else 200)


def _can_send(kernel: Kernel, pharmacy_id: int, operator_id: int) -> bool:
    from lgo_mssante import api as mss

    return mss.can_send(kernel, pharmacy_id, operator_id)


def _patient_box(kernel: Kernel, pharmacy_id: int, patient_id: int) -> str:
    from lgo_mssante import api as mss

    try:
        return mss.patient_address(kernel, pharmacy_id, patient_id)
    except LgoError:
        return ""


@blueprint.route("/entretiens/<record_id>/suite")
@_pharmacist_only
def done(kernel: Kernel, pharmacy_id: int, operator_id: int, record_id: str) -> Any:
    """After the validation (or the DMP's send window): MSSanté and the act, once; what was done, in French."""
    draft = drafts.get(kernel, pharmacy_id, record_id)
    if not draft.validated:
        flash("Le compte rendu n'est pas validé (envoi au DMP non confirmé) : il reste en brouillon.", "info")
        return redirect(url_for("entretiens.edit", record_id=draft.id))
    lines = drafts.finish(kernel, pharmacy_id, draft.id, operator_id)
    return render_template(
        "entretiens/done.html",
        draft=drafts.get(kernel, pharmacy_id, draft.id),
        lines=lines,
        patient_id=draft.patient_id,
    )
