"""From a billed vaccination to a validated note de vaccination, and its corrections.

1. ``lgo_on_billing_commit`` writes a note *to check* for each vaccine line of a billing that carries a vaccination
   act (VGP, INJ, RVA), inside the billing's transaction: the note exists if and only if the billing does.
2. ``lgo_on_billing_end`` returns the actions to render: qualify the identity (only when it is not qualified) and
   check the note.
3. :func:`validate_note` builds the VAC-NOTE document and validates it in the kernel (the ``dmp`` plugin feeds it).
   When the identity is not qualified yet, the note is validated by the pharmacist but its document *waits*
   (visible status); :func:`on_identity_qualified` produces and validates it as soon as the identity is qualified.
4. :func:`correct_note` replaces a validated note (the DMP receives a replacement); :func:`cancel_note` withdraws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Choice,
    HealthDocument,
    IdentityNotShareable,
    Lot,
    Operator,
    Product,
    ValidationError,
    documents,
    get_scoped,
)
from lgo.api import audit as journal
from lgo.api import (
    cda as cda_builder,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_vaccination import cda, codes
from lgo_vaccination.model import NoteStatus, VaccinationNote

if TYPE_CHECKING:
    from lgo.api import BillingEnded, IdentityQualified, Kernel

PLUGIN = "vaccination"


@dataclass(frozen=True)
class RecordLine:
    """One line of the patient's vaccination record (as Mon espace santé's carnet de vaccination shows it)."""

    date: date
    vaccine: str
    disease: str
    vaccinator: str
    added_by: str
    status: str
    #: The lot number (empty when unknown).
    lot: str = ""


# --- 1. at the billing --------------------------------------------------------------------------------------


def write_notes(kernel: Kernel, session: Session, event: BillingEnded) -> list[int]:
    """Inside the billing's transaction: one note per vaccine line when the billing has a vaccination act."""
    act_codes = [
        line.act_code for line in event.lines if line.kind == "act" and line.act_code in codes.VACCINATION_ACTS
    ]
    vaccines = [line for line in event.lines if line.is_vaccine and line.product_id is not None]
    if not act_codes or not vaccines or event.patient_id is None:
        return []
    created = []
    for index, line in enumerate(vaccines):
        product = session.get(Product, line.product_id)
        lot = session.get(Lot, line.lot_id) if line.lot_id is not None else None
        assert product is not None
        # A product whose ATC is not a vaccine's still gets its note; validation asks for the right code.
        profile = codes.profile(product.atc) or codes.VaccineProfile(("—",))
        note = VaccinationNote(
            pharmacy_id=event.pharmacy_id,
            patient_id=event.patient_id,
            operator_id=event.operator_id,
            invoice_id=event.invoice_id,
            product_id=product.id,
            vaccine_label=product.label,
            cip13=product.cip13,
            cis=product.cis,
            atc=product.atc,
            disease_fr=profile.disease_fr[:120],
            lot_number=line.lot_number or (lot.lot_number if lot else ""),
            lot_expiry=lot.expiry if lot else None,
            act_code=act_codes[min(index, len(act_codes) - 1)],
            act_type=profile.act_type,
            route_code=profile.route,
            site_code=profile.site,
            administered_at=event.validated_at,
            comment="",
            status=NoteStatus.TO_CHECK,
            hidden_from_patient=False,
            masked_from_professionals=False,
        )
        session.add(note)
        session.flush()
        created.append(note.id)
        prepared = f"Note de vaccination préparée : {product.label}, lot {note.lot_number}."
        _audit(session, note, "note_prepared", prepared, event.operator_id)
    return created


def actions_after_billing(kernel: Kernel, event: BillingEnded) -> list[ActionRequired]:
    vaccinating = vaccinators(kernel, event.pharmacy_id)
    with kernel.transaction() as session:
        notes = list(
            session.scalars(
                select(VaccinationNote).where(
                    VaccinationNote.pharmacy_id == event.pharmacy_id, VaccinationNote.invoice_id == event.invoice_id
                )
            )
        )
        snapshots = [_note_data(n, vaccinating) for n in notes]
    if not snapshots or event.patient_id is None:
        return []
    actions: list[ActionRequired] = []
    if not kernel.is_identity_shareable(event.pharmacy_id, event.patient_id):
        actions += _qualify(
            kernel,
            event.pharmacy_id,
            event.patient_id,
            "La note de vaccination sera envoyée au DMP quand l'identité sera qualifiée (appel INSi et pièce "
            "d'identité). Elle est conservée en attendant.",
        )
    for data in snapshots:
        actions.append(
            ActionRequired(
                kind="vaccination.check_note",
                plugin=PLUGIN,
                title_fr="Vérifier la note de vaccination",
                message_fr=f"{data['vaccine_label']} — lot {data['lot_number']} — {codes.ROUTES[data['route_code']]}, "
                f"{codes.SITES[data['site_code']]} — {codes.ACT_TYPES[data['act_type']]}. "
                + (
                    "Complétez si besoin, puis validez."
                    if data["vaccinator_id"] is not None
                    else "Choisissez le pharmacien vaccinateur, complétez si besoin, puis validez."
                ),
                patient_id=event.patient_id,
                choices=(
                    Choice("validate", "Valider la note"),
                    Choice("edit", "Modifier voie, site, type d'acte ou vaccinateur"),
                ),
                data=data,
            )
        )
    return actions


def _qualify(
    kernel: Kernel, pharmacy_id: int, patient_id: int, waiting_fr: str, refusal: IdentityNotShareable | None = None
) -> list[ActionRequired]:
    """Ask for the qualification of the identity: the identity plugin's window, whoever provides it."""
    return kernel.identity_actions(pharmacy_id, patient_id, refusal or IdentityNotShareable(patient_id), waiting_fr)


def _note_data(note: VaccinationNote, vaccinating: list[Vaccinator]) -> dict[str, Any]:
    chosen = next((v for v in vaccinating if v.operator_id == note.operator_id), None)
    return {
        "note_id": note.id,
        # None: who billed cannot be the vaccinator (a préparateur); the window asks to choose one.
        "vaccinator_id": chosen.operator_id if chosen else None,
        "vaccinators": [{"operator_id": v.operator_id, "label": f"{v.name} ({v.role_fr})"} for v in vaccinating],
        "vaccine_label": note.vaccine_label,
        "lot_number": note.lot_number,
        "route_code": note.route_code,
        "site_code": note.site_code,
        "act_type": note.act_type,
        "administered_at": cda_builder.local(note.administered_at).strftime("%Y-%m-%dT%H:%M"),
        "comment": note.comment,
        "routes": codes.ROUTES,
        "sites": codes.SITES,
        "act_types": codes.ACT_TYPES,
    }


# --- 2. checking and validating --------------------------------------------------------------------------


def _audit(session: Session, note: VaccinationNote, action: str, message: str, operator_id: int) -> None:
    journal.record_about(session, note, f"vaccination.{action}", message, actor=PLUGIN, operator_id=operator_id)


def _note(session: Session, pharmacy_id: int, note_id: int) -> VaccinationNote:
    return get_scoped(session, VaccinationNote, note_id, pharmacy_id, "note de vaccination")


def update_note(
    kernel: Kernel,
    pharmacy_id: int,
    note_id: int,
    *,
    route_code: str | None = None,
    site_code: str | None = None,
    act_type: str | None = None,
    comment: str | None = None,
    lot_number: str | None = None,
    vaccinator_id: int | None = None,
    administered_at: datetime | None = None,
) -> None:
    """Complete a note before validation (route, site, act type, comment, lot, and the vaccinator: one of
    :func:`vaccinators`, for instance the pharmacist who vaccinated when a préparateur billed)."""
    with kernel.transaction() as session:
        note = _note(session, pharmacy_id, note_id)
        if note.status != NoteStatus.TO_CHECK:
            raise ValidationError(
                "Cette note est déjà validée : corrigez-la par une note de remplacement.",
                detail=f"note {note_id} is {note.status}",
            )
        if vaccinator_id is not None:
            note.operator_id = _vaccinating(session, pharmacy_id, vaccinator_id).id
        if administered_at is not None:
            if administered_at.tzinfo is None or administered_at > datetime.now(UTC) + timedelta(minutes=5):
                raise ValidationError("La date et l'heure de la vaccination ne peuvent pas être dans le futur.")
            note.administered_at = administered_at
        _apply(
            note, route_code=route_code, site_code=site_code, act_type=act_type, comment=comment, lot_number=lot_number
        )


def _apply(note: VaccinationNote, **changes: str | None) -> None:
    if changes.get("route_code") is not None:
        note.route_code = codes.check_choice(codes.ROUTES, str(changes["route_code"]), "Voie d'administration")
    if changes.get("site_code") is not None:
        note.site_code = codes.check_choice(codes.SITES, str(changes["site_code"]), "Région d'administration")
    if changes.get("act_type") is not None:
        note.act_type = codes.check_choice(codes.ACT_TYPES, str(changes["act_type"]), "Type d'acte vaccinal")
    if changes.get("comment") is not None:
        note.comment = cda.xml_text(str(changes["comment"])).strip()[:500]
    if changes.get("lot_number") is not None:
        lot = cda.xml_text(str(changes["lot_number"])).strip()
        if not lot:
            raise ValidationError("Le numéro de lot du vaccin est obligatoire.")
        note.lot_number = lot[:40]


def validate_note(
    kernel: Kernel,
    pharmacy_id: int,
    note_id: int,
    operator_id: int,
    *,
    hidden_from_patient: bool = False,
    masked_from_professionals: bool = False,
) -> list[ActionRequired]:
    """The pharmacist validates the note. Its document is produced now if the identity is qualified, else later."""
    with kernel.transaction() as session:
        note = _note(session, pharmacy_id, note_id)
        if note.status != NoteStatus.TO_CHECK:
            raise ValidationError("Cette note de vaccination est déjà validée.", detail=f"note {note_id}")
        _vaccinating(session, pharmacy_id, note.operator_id)
        if not note.lot_number:
            raise ValidationError("Le numéro de lot du vaccin est obligatoire.")
        if not note.cis or not note.atc:
            raise ValidationError(
                f"Les codes CIS et ATC du vaccin « {note.vaccine_label} » sont obligatoires dans une note de "
                "vaccination : complétez la fiche produit.",
                detail=f"cis={note.cis} atc={note.atc}",
            )
        note.disease_fr = codes.disease_fr(note.atc)[:120]
        note.status = NoteStatus.WAITING_IDENTITY
        note.validated_by = operator_id
        note.hidden_from_patient = hidden_from_patient
        note.masked_from_professionals = masked_from_professionals
        patient_id = note.patient_id
    return _produce(kernel, pharmacy_id, note_id, patient_id)


def _produce(kernel: Kernel, pharmacy_id: int, note_id: int, patient_id: int) -> list[ActionRequired]:
    """Build and validate the document of a validated note whose identity was waiting."""
    try:
        identity = kernel.shareable_identity(pharmacy_id, patient_id)
    except IdentityNotShareable as exc:
        kernel.audit(
            pharmacy_id,
            "vaccination.note_waiting",
            "Note de vaccination validée, en attente de la qualification de l'identité.",
            actor=PLUGIN,
            patient_id=patient_id,
            object_type="vaccination_note",
            object_id=note_id,
        )
        return _qualify(kernel, pharmacy_id, patient_id, "La note de vaccination attend et partira ensuite.", exc)
    with kernel.transaction() as session:
        note = _note(session, pharmacy_id, note_id)
        if note.status != NoteStatus.WAITING_IDENTITY:
            return []
        previous = _note(session, pharmacy_id, note.replaces_note_id) if note.replaces_note_id else None
        replaced = session.get(HealthDocument, previous.document_id) if previous and previous.document_id else None
        document = documents.draft_of(
            session,
            note,
            codes.NOTE_TYPE,
            f"Note de vaccination — {codes.disease_fr(note.atc)}",
            source_plugin=PLUGIN,
            source_ref=f"note:{note.id}",
            replaces=replaced,
        )
        header = cda_builder.header_for_document(
            session,
            document,
            identity,
            service_event_code=(*codes.NOTE_TYPE, codes.OID_LOINC),
            effective_time=note.administered_at,
        )
        documents.set_content(document, cda.build(header, _vaccination(session, note)))
        note.document_id = document.id
        note.status = NoteStatus.VALIDATED
        if previous is not None:
            previous.status = NoteStatus.REPLACED
        document_id, operator_id = document.id, note.validated_by or note.operator_id
        hidden, masked = note.hidden_from_patient, note.masked_from_professionals
    return documents.validate(
        kernel, pharmacy_id, document_id, operator_id, hidden_from_patient=hidden, masked_from_professionals=masked
    )


@dataclass(frozen=True)
class Vaccinator:
    """A professional of the pharmacy who may be named as the vaccinator of a note (decision 0502)."""

    operator_id: int
    name: str
    rpps: str
    role_fr: str


def _can_vaccinate(operator: Operator | None, pharmacy_id: int) -> bool:
    return (
        operator is not None
        and operator.pharmacy_id == pharmacy_id
        and operator.active
        and operator.role.is_pharmacist
        and bool(operator.rpps)
    )


def vaccinators(kernel: Kernel, pharmacy_id: int) -> list[Vaccinator]:
    """The pharmacy's vaccinating professionals: active pharmacists identified by their RPPS, by name."""
    with kernel.transaction() as session:
        operators = session.scalars(select(Operator).where(Operator.pharmacy_id == pharmacy_id))
        return sorted(
            (
                Vaccinator(o.id, o.display_name, o.rpps or "", o.role.label_fr)
                for o in operators
                if _can_vaccinate(o, pharmacy_id)
            ),
            key=lambda v: (v.name.upper(), v.operator_id),
        )


def _vaccinating(session: Session, pharmacy_id: int, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None or not _can_vaccinate(operator, pharmacy_id):
        raise ValidationError(
            "Le vaccinateur doit être un pharmacien de l'officine identifié par son numéro RPPS : choisissez-le "
            "dans la liste des vaccinateurs.",
            detail=f"operator {operator_id} cannot be the vaccinator in pharmacy {pharmacy_id}",
        )
    return operator


def _vaccinator(session: Session, pharmacy_id: int, operator_id: int) -> cda_builder.CdaPerson:
    operator = _vaccinating(session, pharmacy_id, operator_id)
    assert operator.rpps is not None
    return cda_builder.CdaPerson(rpps=operator.rpps, family=operator.last_name.upper(), given=operator.first_name)


def _vaccination(session: Session, note: VaccinationNote) -> cda.Vaccination:
    assert note.cis is not None
    return cda.Vaccination(
        administered_at=note.administered_at,
        act_type=note.act_type,
        vaccine_label=note.vaccine_label,
        cis=note.cis,
        atc=note.atc,
        cip13=note.cip13,
        lot_number=note.lot_number,
        route_code=note.route_code,
        site_code=note.site_code,
        vaccinator=_vaccinator(session, note.pharmacy_id, note.operator_id),
        comment=note.comment,
    )


def on_identity_qualified(kernel: Kernel, event: IdentityQualified) -> None:
    with kernel.transaction() as session:
        waiting = list(
            session.scalars(
                select(VaccinationNote.id)
                .where(
                    VaccinationNote.pharmacy_id == event.pharmacy_id,
                    VaccinationNote.patient_id == event.patient_id,
                    VaccinationNote.status == NoteStatus.WAITING_IDENTITY,
                )
                .order_by(VaccinationNote.id)
            )
        )
    for note_id in waiting:
        _produce(kernel, event.pharmacy_id, note_id, event.patient_id)


# --- 3. corrections ------------------------------------------------------------------------------------------


def correct_note(
    kernel: Kernel, pharmacy_id: int, note_id: int, operator_id: int, **changes: str | None
) -> tuple[int, list[ActionRequired]]:
    """Replace a validated note by a corrected one (its document replaces the previous one in the DMP)."""
    with kernel.transaction() as session:
        old = _note(session, pharmacy_id, note_id)
        if old.status != NoteStatus.VALIDATED:
            raise ValidationError("Seule une note validée peut être corrigée.", detail=f"note {note_id}")
        new = VaccinationNote(
            **{
                column.key: getattr(old, column.key)
                for column in VaccinationNote.__table__.columns
                if column.key not in ("id", "created_at", "document_id", "status", "replaces_note_id")
            }
        )
        new.status = NoteStatus.WAITING_IDENTITY
        new.replaces_note_id = old.id
        new.validated_by = operator_id
        _apply(new, **changes)
        session.add(new)
        session.flush()
        new_id, patient_id = new.id, new.patient_id
    return new_id, _produce(kernel, pharmacy_id, new_id, patient_id)


def cancel_note(kernel: Kernel, pharmacy_id: int, note_id: int, operator_id: int, reason_fr: str) -> None:
    """Cancel a note: a validated document is withdrawn (deprecated in the DMP)."""
    with kernel.transaction() as session:
        note = _note(session, pharmacy_id, note_id)
        if note.status in (NoteStatus.CANCELLED, NoteStatus.REPLACED):
            raise ValidationError("Cette note est déjà annulée ou remplacée.", detail=f"note {note_id}")
        document_id = note.document_id if note.status == NoteStatus.VALIDATED else None
        note.status = NoteStatus.CANCELLED
        _audit(session, note, "note_cancelled", f"Note de vaccination annulée : {reason_fr}", operator_id)
    if document_id is not None:
        documents.deprecate(kernel, pharmacy_id, document_id, operator_id, reason_fr)


# --- 4. the record -------------------------------------------------------------------------------------------


def vaccination_record(
    kernel: Kernel, pharmacy_id: int, patient_id: int, *, remote: list[RecordLine] | None = None
) -> list[RecordLine]:
    """The patient's vaccinations: this pharmacy's notes (current ones) plus ``remote`` lines (e.g. from the DMP),
    newest first."""
    lines = list(remote or [])
    with kernel.transaction() as session:
        notes = session.scalars(
            select(VaccinationNote).where(
                VaccinationNote.pharmacy_id == pharmacy_id,
                VaccinationNote.patient_id == patient_id,
                VaccinationNote.status.not_in([NoteStatus.REPLACED, NoteStatus.CANCELLED]),
            )
        )
        for note in notes:
            operator = session.get(Operator, note.operator_id)
            name = operator.display_name if operator else "?"
            lines.append(
                RecordLine(
                    cda_builder.local(note.administered_at).date(),
                    note.vaccine_label,
                    note.disease_fr,
                    name,
                    "cette pharmacie",
                    note.status.label_fr,
                    note.lot_number,
                )
            )
    return sorted(lines, key=lambda line: line.date, reverse=True)


def full_record(kernel: Kernel, pharmacy_id: int, operator_id: int, patient_id: int) -> list[RecordLine]:
    """The carnet de vaccination: this pharmacy's notes plus the vaccinations found in the patient's DMP (when the
    ``dmp`` plugin is active, the identity qualified and the operator allowed: the DMP plugin checks and traces
    the access). A vaccination already in a local note is not repeated."""
    remote: list[RecordLine] = []
    if kernel.is_active(pharmacy_id, "dmp") and kernel.is_identity_shareable(pharmacy_id, patient_id):
        from lgo_vaccination.dmp_record import dmp_vaccinations

        local = vaccination_record(kernel, pharmacy_id, patient_id)
        known = {(line.date.isoformat(), line.vaccine) for line in local}
        for entry in dmp_vaccinations(kernel, pharmacy_id, operator_id, patient_id):
            if (entry.date, entry.vaccine) in known or not entry.date:
                continue
            remote.append(
                RecordLine(
                    date.fromisoformat(entry.date),
                    entry.vaccine,
                    entry.disease,
                    entry.vaccinator,
                    f"DMP ({entry.source})",
                    "dans le DMP",
                    entry.lot,
                )
            )
    return vaccination_record(kernel, pharmacy_id, patient_id, remote=remote)


def note_status(kernel: Kernel, pharmacy_id: int, note_id: int) -> NoteStatus:
    with kernel.transaction() as session:
        return _note(session, pharmacy_id, note_id).status


def notes_for_invoice(kernel: Kernel, pharmacy_id: int, invoice_id: int) -> list[int]:
    with kernel.transaction() as session:
        return list(
            session.scalars(
                select(VaccinationNote.id)
                .where(VaccinationNote.pharmacy_id == pharmacy_id, VaccinationNote.invoice_id == invoice_id)
                .order_by(VaccinationNote.id)
            )
        )
