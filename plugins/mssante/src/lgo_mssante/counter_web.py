"""The MSSanté mailbox at the counter (blueprint ``mssante_boite``, under ``/plugins/mssante/boite``): folders, a
message read in plain words with its documents, the quarantine's documents attached to a patient by hand, replies,
forwards and new messages to professionals found in the Annuaire Santé or typed, and to the patient's Mon espace
santé mailbox.

Every screen shows only the actions the operator's rights allow (:mod:`lgo_mssante.mailbox`), and every action checks
them again; a refusal is a French page, never a button that answers 403. Texts from the outside (sender, subject,
body, file names, CDA) are escaped by the templates; a CDA goes through the kernel's renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from lgo.api import (
    DocumentStatus,
    HealthDocument,
    Kernel,
    LgoError,
    NotFound,
    Patient,
    get_scoped,
    rendering,
    search_patients,
    signed_in,
    web_kernel,
)
from sqlalchemy import select

from lgo_mssante import annuaire, attach, compose, mailbox
from lgo_mssante.model import MssReceivedDocument
from lgo_mssante.provider import NotAllowed

blueprint = Blueprint("mssante_boite", __name__, template_folder="templates")


def _patient_id(kernel: Kernel, pharmacy_id: int, raw: str | None) -> int | None:
    if not raw:
        return None
    with kernel.transaction() as db:
        try:
            return get_scoped(db, Patient, raw, pharmacy_id, "patient").id
        except LgoError:
            return None


def _refused(exc: LgoError, patient_id: int | None = None) -> tuple[str, int]:
    status = 403 if isinstance(exc, NotAllowed) else 404 if isinstance(exc, NotFound) else 400
    return render_template("mssante/counter_refused.html", message_fr=exc.message_fr, patient_id=patient_id), status


def _post_any_role(view: Any) -> Any:
    view.lgo_counter = True  # every role may post at the counter: the mailbox rights are checked in the view
    return view


# --- the mailbox ---------------------------------------------------------------------------------------------


@blueprint.route("/boite/")
def mailbox_page() -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    patient_id = _patient_id(kernel, pharmacy_id, request.args.get("patient_id"))
    name = request.args.get("dossier", "recus")
    name = name if name in mailbox.FOLDERS else "recus"
    try:
        allowed = mailbox.require(kernel, pharmacy_id, operator_id, "read")
        listed = mailbox.folder(kernel, pharmacy_id, operator_id, name)
        chosen = request.args.get("m") or (str(listed[0].id) if listed else "")
        shown = mailbox.read(kernel, pharmacy_id, operator_id, chosen) if chosen else None
    except LgoError as exc:
        return _refused(exc, patient_id)
    return render_template(
        "mssante/mailbox.html",
        folders=[(key, label) for key, label in mailbox.FOLDERS.items() if key != "quarantaine" or allowed.quarantine],
        current=name,
        listed=listed,
        shown=shown,
        rights=allowed,
        patient_id=patient_id,
        message_patient=mailbox.patient_label(kernel, pharmacy_id, shown.patient_id if shown else None),
    )


@blueprint.route("/boite/messages/<message_id>/pieces/<key>")
def attachment(message_id: str, key: str) -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    try:
        _name, mime_type, payload = mailbox.attachment(kernel, pharmacy_id, operator_id, message_id, key)
    except LgoError as exc:
        return _refused(exc)
    if mime_type == "application/pdf" and payload.startswith(b"%PDF"):
        return _pdf(payload)
    if key.startswith("d"):
        return _cda_page(payload, url_for("mssante_boite.attachment_pdf", message_id=message_id, key=key), message_id)
    response = Response(payload, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = "attachment; filename=piece-jointe.bin"
    return response


@blueprint.route("/boite/messages/<message_id>/pieces/<key>/pdf")
def attachment_pdf(message_id: str, key: str) -> Any:
    def payload(kernel: Kernel, pharmacy_id: int, operator_id: int) -> bytes:
        return mailbox.attachment(kernel, pharmacy_id, operator_id, message_id, key)[2]

    return _pdf_page(payload)


def _pdf_page(document: Callable[[Kernel, int, int], bytes]) -> Any:
    """The PDF carried by a CDA document; ``document`` reads it for the signed-in operator, checking their rights."""
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    try:
        pdf = rendering.pdf_of(document(kernel, pharmacy_id, operator_id))
    except LgoError as exc:
        return _refused(exc)
    if pdf is None:
        return _refused(NotFound("Ce document n'a pas de PDF."))
    return _pdf(pdf)


def _pdf(pdf: bytes) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers.update(rendering.PDF_HEADERS)
    return response


def _cda_page(content: bytes, pdf_url: str, message_id: str | None, patient_id: int | None = None) -> Any:
    try:
        html = rendering.render_html(content, pdf_url=pdf_url)
    except LgoError:
        html = None
    back = (
        url_for("mssante_boite.mailbox_page", m=message_id, dossier=request.args.get("dossier", "recus"))
        if message_id
        else url_for("counter.patient_file", patient_id=patient_id)
    )
    return render_template("mssante/counter_document.html", document_html=html, back=back, patient_id=patient_id)


@blueprint.route("/boite/messages/<message_id>/traite", methods=["POST"])
@_post_any_role
def handled(message_id: str) -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    try:
        compose.mark_handled(kernel, pharmacy_id, operator_id, message_id)
    except LgoError as exc:
        return _refused(exc)
    flash("Message marqué traité.", "ok")
    return redirect(url_for("mssante_boite.mailbox_page"))


# --- attach a quarantined document to a patient by hand --------------------------------------------------------


@blueprint.route("/boite/messages/<message_id>/rattacher", methods=["GET", "POST"])
@_post_any_role
def attach_page(message_id: str) -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    try:
        mailbox.require(kernel, pharmacy_id, operator_id, "quarantine")
        shown = mailbox.read(kernel, pharmacy_id, operator_id, message_id)
    except LgoError as exc:
        return _refused(exc)
    query = request.values.get("q", "").strip()
    chosen = _patient_id(kernel, pharmacy_id, request.values.get("patient_id"))
    error_fr = ""
    if request.method == "POST" and chosen is not None:
        try:
            count = attach.attach(
                kernel, pharmacy_id, operator_id, shown.id, chosen, confirmed=request.form.get("verifie") == "1"
            )
        except LgoError as exc:
            error_fr = exc.message_fr
        else:
            flash(f"{count} document(s) rattaché(s) au dossier du patient (tracé à votre nom).", "ok")
            return redirect(url_for("counter.patient_file", patient_id=chosen) + "#mssante")
    with kernel.transaction() as db:
        try:
            found = (
                [
                    (p.id, p.birth_name, p.first_names, p.birth_date.display_fr())
                    for p in search_patients(db, pharmacy_id, query)
                ]
                if query
                else []
            )
        except LgoError as exc:  # a search the counter refuses (too short, a date that does not exist…)
            found, error_fr = [], error_fr or exc.message_fr
        patient = db.get(Patient, chosen) if chosen is not None else None
        chosen_label = f"{patient.birth_name} {patient.first_names}" if patient is not None else ""
    checks = attach.checks(kernel, pharmacy_id, shown.id, chosen) if chosen is not None else None
    return render_template(
        "mssante/attach.html",
        shown=shown,
        query=query,
        found=found,
        chosen=chosen,
        chosen_label=chosen_label,
        checks=checks,
        error_fr=error_fr,
    ), (400 if error_fr else 200)


# --- writing: new message, reply, forward; the Annuaire Santé ---------------------------------------------------


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _validated_documents(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[tuple[int, str, str]]:
    if patient_id is None:
        return []
    with kernel.transaction() as db:
        rows = db.scalars(
            select(HealthDocument)
            .where(
                HealthDocument.pharmacy_id == pharmacy_id,
                HealthDocument.patient_id == patient_id,
                HealthDocument.status == DocumentStatus.VALIDATED,
            )
            .order_by(HealthDocument.id.desc())
        )
        return [(d.id, d.title, d.type_display) for d in rows]


def _patient_box(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> str:
    if patient_id is None:
        return ""
    try:
        return compose.patient_address(kernel, pharmacy_id, patient_id)
    except LgoError:
        return ""


@blueprint.route("/boite/nouveau", methods=["GET", "POST"])
@_post_any_role
def compose_page() -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    values = request.values
    patient_id = _patient_id(kernel, pharmacy_id, values.get("patient_id"))
    reply_to, forward_of = _int(values.get("reply_to")), _int(values.get("forward_of"))
    try:
        mailbox.require(kernel, pharmacy_id, operator_id, "send")
        answered = (
            mailbox.read(kernel, pharmacy_id, operator_id, reply_to or forward_of or 0)
            if (reply_to or forward_of)
            else None
        )
    except LgoError as exc:
        return _refused(exc, patient_id)
    if answered is not None and patient_id is None:
        patient_id = answered.patient_id
    to = values.get("to", "")
    if reply_to and answered is not None and not to:
        to = mailbox.sender_address(answered)
    chosen_documents = [int(d) for d in values.getlist("document_id") if d.isdigit()]
    error_fr = ""
    if request.method == "POST":
        try:
            compose.queue(
                kernel,
                pharmacy_id,
                operator_id,
                professionals=compose.addresses(to),
                patient_id=patient_id,
                to_patient=values.get("to_patient") == "1",
                document_ids=chosen_documents,
                subject=values.get("subject", ""),
                body=values.get("body", ""),
                reply_to=reply_to,
                forward_of=forward_of,
            )
        except LgoError as exc:
            error_fr = exc.message_fr
        else:
            flash("Message mis en file d'envoi : il part dès que le serveur MSSanté répond.", "ok")
            if patient_id is not None:
                return redirect(url_for("counter.patient_file", patient_id=patient_id) + "#mssante")
            return redirect(url_for("mssante_boite.mailbox_page", dossier="envoyes"))
    default_subject = ""
    if answered is not None:
        default_subject = ("RE: " if reply_to else "TR: ") + answered.subject_fr
    return render_template(
        "mssante/compose.html",
        patient_id=patient_id,
        reply_to=reply_to,
        forward_of=forward_of,
        answered=answered,
        to=to,
        subject=values.get("subject", default_subject),
        body=values.get("body", ""),
        documents=_validated_documents(kernel, pharmacy_id, patient_id),
        chosen_documents=chosen_documents,
        patient_box=_patient_box(kernel, pharmacy_id, patient_id),
        to_patient=values.get("to_patient") == "1",
        error_fr=error_fr,
    ), (400 if error_fr else 200)


@blueprint.route("/boite/annuaire")
def directory() -> Any:
    """The Annuaire Santé: professionals by name, RPPS or town, with their nominative MSSanté mailboxes; choosing
    one goes back to the message being written with the address added."""
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    try:
        mailbox.require(kernel, pharmacy_id, operator_id, "send")
    except LgoError as exc:
        return _refused(exc)
    name, rpps, town = (request.args.get(k, "").strip() for k in ("nom", "rpps", "ville"))
    settings = kernel.plugin_settings(pharmacy_id, "mssante")
    results: list[annuaire.Professional] = []
    error_fr = ""
    if name or rpps or town:
        try:
            results = annuaire.search(
                settings.annuaire_url,  # type: ignore[attr-defined]
                name=name or None,
                rpps=rpps or None,
                town=town or None,
                api_key=settings.annuaire_api_key.get_secret_value(),  # type: ignore[attr-defined]
            )
        except LgoError as exc:
            error_fr = exc.message_fr
    carried = {k: v for k, v in request.args.items(multi=True) if k in ("patient_id", "reply_to", "forward_of", "to")}
    carried_documents = request.args.getlist("document_id")
    choices = []
    for professional in results:
        for box in professional.mailboxes:
            to = ", ".join(a for a in (carried.get("to", ""), box.address) if a)
            params: dict[str, Any] = {**carried, "to": to, "document_id": carried_documents}
            link = url_for("mssante_boite.compose_page", **params)
            choices.append((professional, box, link))
    back: dict[str, Any] = {**carried, "document_id": carried_documents}
    return render_template(
        "mssante/annuaire.html",
        name=name,
        rpps=rpps,
        town=town,
        choices=choices,
        error_fr=error_fr,
        carried=carried,
        carried_documents=carried_documents,
        back=url_for("mssante_boite.compose_page", **back),
        searched=bool(name or rpps or town),
        patient_id=_patient_id(kernel, pharmacy_id, carried.get("patient_id")),
    )


# --- a document received for the patient, from the patient's file ----------------------------------------------


def _received(
    kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: str, document_id: str
) -> tuple[int, bytes]:
    """A document received for the patient, and the patient's id, when the operator may read the mailbox."""
    mailbox.require(kernel, pharmacy_id, operator_id, "read")
    with kernel.transaction() as db:
        patient = get_scoped(db, Patient, patient_id, pharmacy_id, "patient").id
        found = get_scoped(db, MssReceivedDocument, document_id, pharmacy_id, "document reçu")
        if found.patient_id != patient:
            raise NotFound("Document introuvable pour ce patient.", detail=f"document {document_id}")
        return patient, found.content


@blueprint.route("/boite/patients/<patient_id>/recus/<document_id>")
def received_document(patient_id: str, document_id: str) -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    try:
        patient, content = _received(kernel, pharmacy_id, operator_id, patient_id, document_id)
    except LgoError as exc:
        return _refused(exc)
    pdf_url = url_for("mssante_boite.received_pdf", patient_id=patient, document_id=document_id)
    return _cda_page(content, pdf_url, None, patient)


@blueprint.route("/boite/patients/<patient_id>/recus/<document_id>/pdf")
def received_pdf(patient_id: str, document_id: str) -> Any:
    def content(kernel: Kernel, pharmacy_id: int, operator_id: int) -> bytes:
        return _received(kernel, pharmacy_id, operator_id, patient_id, document_id)[1]

    return _pdf_page(content)
