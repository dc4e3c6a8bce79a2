"""The patient's file at the counter (``Alt+P`` from the banner): the kernel's parts — identity traits and their
changes, the dispensings of the last 12 months from the ordonnancier, the documents produced here — and every active
plugin's sections (``lgo_patient_file_sections``: INS history, vaccination record, DMP, MSSanté, interviews…).

The page reads the database only. What needs a national service comes as a plugin's *fragment*, fetched by the
browser after the file is shown (``counter.js``), so the file opens at once even when the DMP is slow. Every text a
plugin gives is escaped by Jinja; links are built here from the plugin's endpoint, and left out when the endpoint is
not mounted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response as FlaskResponse
from flask import abort, current_app, render_template, request, url_for
from lgo.documents import rendering
from lgo.documents.model import HealthDocument
from lgo.domain import audit, history
from lgo.domain.patients import Patient
from lgo.domain.scoped import get_scoped, parse_id
from lgo.errors import LgoError, NotFound
from lgo.events import PatientFileView
from lgo.kernel import Kernel
from lgo.plugins.registrations import FileLink, FileRow, PatientFileSection
from sqlalchemy import select

from lgo_web.app import kernel_of
from lgo_web.auth import SignedIn, current_user
from lgo_web.counter.views import CounterPatient, _panels, _shortcuts, _statuses, blueprint

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
#: How far back the file looks by default (what the Dossier Pharmaceutique shows: the last months' dispensings).
HISTORY_DAYS = 365
#: Audit actions of the kernel about a patient's identity traits, shown in the identity section.
IDENTITY_ACTIONS = ("patient.created", "patient.traits_changed", "patient.updated")


@dataclass(frozen=True)
class ShownLink:
    label_fr: str
    url: str
    key: str
    method: str


@dataclass(frozen=True)
class ShownRow:
    cells: tuple[str, ...]
    link: ShownLink | None
    highlight_fr: str


@dataclass(frozen=True)
class ShownSection:
    """A section as the template shows it: links resolved to addresses."""

    anchor: str
    title_fr: str
    lines_fr: tuple[str, ...]
    columns_fr: tuple[str, ...]
    rows: tuple[ShownRow, ...]
    empty_fr: str
    links: tuple[ShownLink, ...]
    fragment: ShownLink | None
    plugin: str


def _link(link: FileLink | None) -> ShownLink | None:
    if link is None or link.endpoint not in current_app.view_functions:
        return None
    params: dict[str, Any] = dict(link.params)
    return ShownLink(link.label_fr, url_for(link.endpoint, **params), link.key, link.method)


def shown(plugin: str, section: PatientFileSection) -> ShownSection:
    return ShownSection(
        anchor=section.anchor,
        title_fr=section.title_fr,
        lines_fr=section.lines_fr,
        columns_fr=section.columns_fr,
        rows=tuple(ShownRow(r.cells, _link(r.link), r.highlight_fr) for r in section.rows),
        empty_fr=section.empty_fr,
        links=tuple(found for link in section.links if (found := _link(link)) is not None),
        fragment=_link(section.fragment),
        plugin=plugin,
    )


def _paris(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


def identity_section(session: Any, patient: Patient) -> PatientFileSection:
    """The kernel's identity traits (as declared or read from the carte Vitale) and their changes."""
    lines = [
        f"Nom de naissance : {patient.birth_name}",
        f"Prénom(s) de naissance : {patient.first_names}",
        *([f"Nom utilisé : {patient.used_name}"] if patient.used_name else []),
        *([f"Prénom utilisé : {patient.used_first_name}"] if patient.used_first_name else []),
        f"Né(e) le {patient.birth_date.display_fr()} — sexe {patient.sex.value}"
        + (f" — lieu de naissance (INSEE) {patient.birth_place_code}" if patient.birth_place_code else ""),
        *(
            [f"NIR de l'assuré (carte Vitale) : {patient.vitale_nir}, rang {patient.vitale_rank or 1}"]
            if patient.vitale_nir
            else []
        ),
        f"Complémentaire : {patient.complementary_rate} %" if patient.complementary_rate else "Sans complémentaire",
    ]
    changes = session.scalars(
        select(audit.AuditEntry)
        .where(
            audit.AuditEntry.pharmacy_id == patient.pharmacy_id,
            audit.AuditEntry.patient_id == patient.id,
            audit.AuditEntry.action.in_(IDENTITY_ACTIONS),
        )
        .order_by(audit.AuditEntry.id.desc())
        .limit(50)
    )
    rows = tuple(FileRow((_paris(entry.at), entry.message_fr)) for entry in changes)
    return PatientFileSection(
        "identite",
        "Identité (traits du dossier)",
        lines_fr=tuple(lines),
        columns_fr=("Date", "Changement"),
        rows=rows,
        empty_fr="Aucun changement des traits enregistré.",
        order=10,
    )


def dispensing_section(session: Any, patient: Patient, since: datetime) -> PatientFileSection:
    lines = history.dispensing_history(session, patient.pharmacy_id, patient.id, since)
    rows = tuple(
        FileRow(
            (
                _paris(line.at),
                str(line.number),
                line.product_label,
                str(line.quantity),
                line.lot_number,
                f"{line.prescriber} ({line.prescribed_on})",
                line.operator,
            ),
            highlight_fr=f"correction de la ligne n° {line.corrects_number} : {line.correction_reason}"
            if line.corrects_number
            else "",
        )
        for line in lines
    )
    boxes = sum(line.quantity for line in lines)
    return PatientFileSection(
        "delivrances",
        "Délivrances des 12 derniers mois (ordonnancier)",
        lines_fr=(
            f"{len(lines)} ligne(s) d'ordonnancier, {boxes} boîte(s), depuis le {since.astimezone(PARIS):%d/%m/%Y}.",
        ),
        columns_fr=("Date", "N° ordonnancier", "Produit", "Qté", "Lot", "Prescripteur (ordonnance du)", "Par"),
        rows=rows,
        empty_fr="Aucune délivrance sur ordonnance depuis un an dans cette officine.",
        order=20,
    )


def documents_section(session: Any, patient: Patient) -> PatientFileSection:
    produced = history.produced_documents(session, patient.pharmacy_id, patient.id)
    rows = tuple(
        FileRow(
            (_paris(d.validated_at or d.created_at), d.title, d.type_display, d.status_fr),
            link=FileLink("Ouvrir", "counter.patient_document", (("patient_id", patient.id), ("document_id", d.id))),
        )
        for d in produced
    )
    return PatientFileSection(
        "documents-produits",
        "Documents produits par l'officine",
        columns_fr=("Date", "Titre", "Type", "État"),
        rows=rows,
        empty_fr="Aucun document produit ici pour ce patient.",
        order=40,
    )


def plugin_sections(kernel: Kernel, view: PatientFileView) -> list[tuple[str, PatientFileSection]]:
    try:
        return kernel.hooks.patient_file_sections(view)
    except Exception:  # a plugin's section never keeps the file closed
        log.exception("patient file sections unavailable")
        return []


def _draft_id() -> int | None:
    raw = request.args.get("draft_id", "")
    try:
        return parse_id(raw, "facturation") if raw else None
    except NotFound:
        return None


@blueprint.route("/patients/<patient_id>/dossier")
def patient_file(patient_id: str) -> Any:
    user = current_user()
    kernel = kernel_of(current_app)
    draft_id = _draft_id()
    since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    with kernel.transaction() as session:
        try:
            patient = get_scoped(session, Patient, patient_id, user.pharmacy_id, "patient")
        except LgoError:
            abort(404)
        counter_patient = CounterPatient.of(patient)
        sections = [
            ("", identity_section(session, patient)),
            ("", dispensing_section(session, patient, since)),
            ("", documents_section(session, patient)),
        ]
    view = PatientFileView(user.pharmacy_id, user.operator_id, counter_patient.id, since, draft_id)
    sections += plugin_sections(kernel, view)
    sections.sort(key=lambda item: (item[1].order, item[1].title_fr))
    from lgo.events import CounterView

    return render_template(
        "counter/patient_file.html",
        patient=counter_patient,
        sections=[shown(plugin, section) for plugin, section in sections],
        draft_id=draft_id,
        panels=_panels(kernel, CounterView(user.pharmacy_id, user.operator_id, counter_patient.id)),
        statuses=_statuses(kernel, user.pharmacy_id, counter_patient.id),
        shortcuts=_file_shortcuts(kernel, user, counter_patient),
    )


def _file_shortcuts(kernel: Kernel, user: SignedIn, patient: CounterPatient) -> list[Any]:
    """The plugins' keys that open a page (the commands need a billing: they stay on the billing screen)."""
    return [k for k in _shortcuts(kernel, user, patient) if k.endpoint]


def _document(session: Any, user: SignedIn, patient_id: str, document_id: str) -> HealthDocument:
    try:
        patient = get_scoped(session, Patient, patient_id, user.pharmacy_id, "patient")
        document = get_scoped(session, HealthDocument, document_id, user.pharmacy_id, "document")
    except LgoError:
        abort(404)
    if document.patient_id != patient.id or not document.content:
        abort(404)
    return document


@blueprint.route("/patients/<patient_id>/documents/<document_id>")
def patient_document(patient_id: str, document_id: str) -> Any:
    """A document produced here, read as the DMP would show it: escaped text, the PDF from its own address."""
    user = current_user()
    kernel = kernel_of(current_app)
    with kernel.transaction() as session:
        document = _document(session, user, patient_id, document_id)
        owner = session.get(Patient, document.patient_id)
        assert owner is not None
        patient = CounterPatient.of(owner)
        content, title, pk = document.content or b"", document.title, document.id
    pdf_url = url_for("counter.patient_document_pdf", patient_id=patient.id, document_id=pk)
    try:
        html = rendering.render_html(content, pdf_url=pdf_url)
    except LgoError as exc:
        html = None
        log.warning("document %s not rendered: %s", pk, exc.detail)
    return render_template(
        "counter/document.html",
        patient=patient,
        title=title,
        document_html=html,
        back_url=url_for("counter.patient_file", patient_id=patient.id),
        statuses=_statuses(kernel, user.pharmacy_id, patient.id),
        shortcuts=[],
    )


@blueprint.route("/patients/<patient_id>/documents/<document_id>/pdf")
def patient_document_pdf(patient_id: str, document_id: str) -> Any:
    user = current_user()
    with kernel_of(current_app).transaction() as session:
        content = _document(session, user, patient_id, document_id).content or b""
    pdf = rendering.pdf_of(content)
    if pdf is None:
        abort(404)
    return pdf_response(pdf)


def pdf_response(pdf: bytes) -> FlaskResponse:
    """A PDF shown inside a page of the same site (its own frame rules), never run as a page of the site."""
    response = FlaskResponse(pdf, mimetype="application/pdf")
    response.headers.update(rendering.PDF_HEADERS)
    return response
