"""The DMP's counter screens (blueprint ``dmp``, under ``/plugins/dmp/``): the patient's documents with the new ones
highlighted, a document opened, and the send window of a document before it is queued.

Each view checks the operator's habilitation through the service (refusals are traced with the operator's name);
the list is also the *fragment* of the DMP section of the patient's file (header ``X-LGO-Fragment``). A CDA is shown
through the kernel's renderer, which escapes every text and keeps no attribute nor active element; the PDF of a
level 1 document is served from its own address with headers that only let the page frame it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from lgo.api import (
    HealthDocument,
    IdentityNotShareable,
    Kernel,
    LgoError,
    Patient,
    PermissionDenied,
    get_scoped,
    rendering,
    signed_in,
    web_kernel,
)

from lgo_dmp import consultation, service
from lgo_dmp.settings import settings

blueprint = Blueprint("dmp", __name__, template_folder="templates")


def _patient(kernel: Kernel, pharmacy_id: int, patient_id: str) -> int:
    with kernel.transaction() as db:
        return get_scoped(db, Patient, patient_id, pharmacy_id, "patient").id


def _fragment() -> bool:
    return bool(request.headers.get("X-LGO-Fragment"))


def _problem(exc: LgoError) -> tuple[str, int]:
    """A French message and the HTTP status of a refusal (habilitation, identity) or of the DMP's failure."""
    if isinstance(exc, PermissionDenied):
        return exc.message_fr, 403
    if isinstance(exc, IdentityNotShareable):
        return (
            "L'identité du patient n'est pas qualifiée : le DMP n'est accessible qu'avec l'INS qualifiée. "
            "Qualifiez l'identité (pièce d'identité et INSi) puis revenez.",
            409,
        )
    return exc.message_fr, 502


def _filters() -> consultation.Filters:
    return consultation.Filters(
        archived=request.args.get("archives") == "1",
        masked=request.args.get("masques") == "1",
        obsolete=request.args.get("obsoletes") == "1",
    )


def _toggle(filters: consultation.Filters, name: str) -> dict[str, str]:
    """The query of the list with one filter switched."""
    current = {"archives": filters.archived, "masques": filters.masked, "obsoletes": filters.obsolete}
    current[name] = not current[name]
    return {key: "1" for key, on in current.items() if on}


@blueprint.route("/patients/<patient_id>/documents")
def documents(patient_id: str) -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    patient = _patient(kernel, pharmacy_id, patient_id)
    filters = _filters()
    found: consultation.Consultation | None = None
    error_fr, status = "", 200
    try:
        found = consultation.consult(kernel, pharmacy_id, operator_id, patient, filters)
    except LgoError as exc:
        error_fr, status = _problem(exc)
    template = "dmp/_documents.html" if _fragment() else "dmp/documents.html"
    return render_template(
        template,
        patient_id=patient,
        found=found,
        filters=filters,
        toggles={name: _toggle(filters, name) for name in ("archives", "masques", "obsoletes")},
        error_fr=error_fr,
    ), status


def _opened(patient_id: str, unique_id: str) -> tuple[int, Any, bytes]:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    patient = _patient(kernel, pharmacy_id, patient_id)
    entry, content = consultation.open_by_unique_id(kernel, pharmacy_id, operator_id, patient, unique_id)
    return patient, entry, content


@blueprint.route("/patients/<patient_id>/documents/<unique_id>")
def document(patient_id: str, unique_id: str) -> Any:
    try:
        patient, entry, content = _opened(patient_id, unique_id)
    except LgoError as exc:
        message, status = _problem(exc)
        return render_template("dmp/refused.html", patient_id=patient_id, message_fr=message), status
    try:
        html = rendering.render_html(
            content, pdf_url=url_for("dmp.document_pdf", patient_id=patient, unique_id=unique_id)
        )
    except LgoError:
        html = None
    return render_template("dmp/document.html", patient_id=patient, entry=entry, document_html=html)


@blueprint.route("/patients/<patient_id>/documents/<unique_id>/pdf")
def document_pdf(patient_id: str, unique_id: str) -> Any:
    try:
        _patient_id, _entry, content = _opened(patient_id, unique_id)
        pdf = rendering.pdf_of(content)
    except LgoError as exc:
        message, status = _problem(exc)
        return Response(message, status=status, mimetype="text/plain")
    if pdf is None:
        return Response("Ce document n'a pas de PDF.", status=404, mimetype="text/plain")
    response = Response(pdf, mimetype="application/pdf")
    response.headers.update(rendering.PDF_HEADERS)
    return response


# --- the send window ---------------------------------------------------------------------------------------


def _next_url(default: str) -> str:
    """Where to go after the window: a path of this site only (never another site)."""
    wanted = request.values.get("next", "")
    return wanted if wanted.startswith("/") and not wanted.startswith("//") and "\\" not in wanted else default


def _draft(kernel: Kernel, pharmacy_id: int, document_id: str) -> tuple[int, int, str]:
    with kernel.transaction() as db:
        row = get_scoped(db, HealthDocument, document_id, pharmacy_id, "document")
        return row.id, row.patient_id, row.status.value


@blueprint.route("/documents/<document_id>/envoi", methods=["GET", "POST"])
def send(document_id: str) -> Any:
    """Title and visibility (patient, legal representatives, other professionals), then validated and queued."""
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    pk, patient, status = _draft(kernel, pharmacy_id, document_id)
    back = _next_url(url_for("counter.patient_file", patient_id=patient))
    try:
        service.authorise_send(kernel, pharmacy_id, operator_id, patient, f"document n° {pk}")
    except LgoError as exc:
        message, code = _problem(exc)
        return render_template("dmp/refused.html", patient_id=patient, message_fr=message, back=back), code
    if status != "draft":
        flash("Ce document est déjà validé : il suit son envoi au DMP.", "info")
        return redirect(back)
    choices = service.send_choices(kernel, pharmacy_id, pk)
    error_fr = ""
    if request.method == "POST":
        chosen = service.SendChoices(
            pk,
            request.form.get("title", "").strip() or choices.title,
            request.form.get("patient") == "1",
            request.form.get("representatives") == "1",
            request.form.get("professionals") == "1",
        )
        try:
            flash(service.validate_and_send(kernel, pharmacy_id, pk, operator_id, chosen), "ok")
            return redirect(back)
        except LgoError as exc:
            error_fr, choices = exc.message_fr, chosen
    return render_template(
        "dmp/send.html",
        patient_id=patient,
        choices=choices,
        back=back,
        error_fr=error_fr,
        defaults=settings(kernel, pharmacy_id),
    ), (400 if error_fr else 200)


# every role may post at the counter; the habilitation is checked above
send.lgo_counter = True  # type: ignore[attr-defined]
