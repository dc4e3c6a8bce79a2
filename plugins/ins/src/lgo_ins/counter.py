"""The INS at the counter: INSi search on patient selection, retries in the outbox, the actions the pharmacist sees.

Nothing here makes the counter wait longer than the configured INSi time-out: when INSi is slow or down the identity
stays as it is, a retry is queued in the outbox, and the pharmacist is told why.

In INSI-MANU mode each call carries the operator's SAML assertion signed by their CPS, which the kernel hands over
when a plugin holds the card unlocked (``Kernel.operator_signer``, plugin ``cards``). Without it the pharmacist is
asked for the card. When INSi is down in this mode no retry is queued, since the worker has no card: the next
selection of the patient searches again.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Choice,
    Delivery,
    LgoError,
    Patient,
    Pharmacy,
    ValidationError,
    certificates,
    outbox,
    traits,
)

from lgo_ins import api, assertion, insi
from lgo_ins.model import Status
from lgo_ins.settings import InsSettings

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientSelected

KIND_RETRY = "ins.insi_search"
#: The use of the pharmacy's certificate declared to the « Certificat » page (a distinct INSI-AUTO certificate).
CERTIFICATE_KIND = "insi"
MANU = "INSI-MANU"


class OperatorCardRequired(LgoError):
    """INSI-MANU needs the operator's CPS, unlocked with the PIN, to sign the assertion."""


def _settings(kernel: Kernel, pharmacy_id: int) -> InsSettings:
    settings = kernel.plugin_settings(pharmacy_id, "ins")
    assert isinstance(settings, InsSettings)
    return settings


def endpoint(kernel: Kernel, pharmacy_id: int) -> insi.Endpoint:
    """The one place that chooses the client credential: the certificate stored for INSi (kind « insi »), else the
    pharmacy's organisation certificate."""
    settings = _settings(kernel, pharmacy_id)
    with kernel.transaction() as session:
        credential = certificates.pharmacy_credential(session, pharmacy_id, kind=CERTIFICATE_KIND)
    return insi.Endpoint(settings.insi_endpoint, credential, settings.ca_path or None, settings.timeout_seconds)


def context(kernel: Kernel, pharmacy_id: int, sender: str) -> insi.Context:
    settings = _settings(kernel, pharmacy_id)
    return insi.Context(
        settings.authorisation_number,
        settings.software_name,
        settings.software_version,
        settings.instance or f"lgo-{pharmacy_id}",
        sender,
    )


def operator_assertion(kernel: Kernel, pharmacy_id: int, operator_id: int | None) -> Any | None:
    """INSI-MANU: the assertion signed by the operator's own CPS (:class:`OperatorCardRequired` when none is
    ready); INSI-AUTO: None, the organisation certificate alone authenticates the call."""
    settings = _settings(kernel, pharmacy_id)
    if settings.mode != MANU:
        return None
    signer = kernel.operator_signer(pharmacy_id, operator_id) if operator_id is not None else None
    if signer is None:
        raise OperatorCardRequired(
            "Le téléservice INSi est configuré en mode INSI-MANU : insérez votre carte CPS et saisissez votre code "
            "porteur, puis sélectionnez de nouveau le patient.",
            detail=f"operator {operator_id}: no CPS unlocked",
        )
    with kernel.transaction() as session:
        pharmacy = session.get(Pharmacy, pharmacy_id)
        assert pharmacy is not None
        billing_id = settings.billing_number or pharmacy.finess
    try:
        return assertion.build(signer, national_id=assertion.holder_id(signer), billing_id=billing_id)
    except LgoError as exc:  # the card signs: taken out, blocked... (French message from its plugin)
        raise OperatorCardRequired(exc.message_fr, detail=exc.detail) from exc


def notice(kind: str, title_fr: str, message_fr: str, patient_id: int) -> ActionRequired:
    """An INS action that only informs: no choice to make."""
    return ActionRequired(kind=kind, plugin="ins", title_fr=title_fr, message_fr=message_fr, patient_id=patient_id)


def card_required(exc: OperatorCardRequired, patient_id: int) -> ActionRequired:
    return notice("ins.cps_required", "Carte CPS nécessaire pour INSi", exc.message_fr, patient_id)


def _traits(kernel: Kernel, pharmacy_id: int, patient_id: int) -> dict[str, Any]:
    with kernel.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None and patient.pharmacy_id == pharmacy_id
        return {
            "birth_name": patient.birth_name,
            "first_names": tuple(patient.first_names.split()),
            "sex": patient.sex.value,
            "birth_date": patient.birth_date_text,
            "birth_place": patient.birth_place_code,
        }


def search(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None) -> list[ActionRequired]:
    """Search INSi with the patient's traits; the answer comes back as an action for the pharmacist."""
    traits = _traits(kernel, pharmacy_id, patient_id)
    try:
        signed = operator_assertion(kernel, pharmacy_id, operator_id)
    except OperatorCardRequired as exc:
        return [card_required(exc, patient_id)]
    try:
        result = insi.search_by_traits(
            endpoint(kernel, pharmacy_id), context(kernel, pharmacy_id, "lgo"), **traits, assertion=signed
        )
    except insi.InsiUnavailable as exc:
        audit_call(kernel, pharmacy_id, patient_id, operator_id, f"INSi indisponible : {exc.detail}")
        if signed is not None:
            return [
                notice(
                    "ins.insi_unavailable",
                    "Téléservice INSi indisponible",
                    (
                        "Le téléservice INSi ne répond pas : l'identité reste telle quelle. "
                        "En mode INSI-MANU la recherche a besoin de votre carte CPS : "
                        "elle sera refaite à la prochaine sélection du patient."
                    ),
                    patient_id,
                )
            ]
        round_ = _pending_round(kernel, pharmacy_id, patient_id)
        with kernel.transaction() as session:
            outbox.enqueue(
                session,
                pharmacy_id,
                plugin="ins",
                kind=KIND_RETRY,
                payload={"patient_id": patient_id, "operator_id": operator_id},
                idempotency_key=f"ins-search-{pharmacy_id}-{patient_id}-{round_}",
            )
        return [notice("ins.insi_unavailable", "Téléservice INSi indisponible", exc.message_fr, patient_id)]
    except ValidationError as exc:
        return [notice("ins.traits_invalid", "Traits à corriger avant INSi", exc.message_fr, patient_id)]
    except insi.InsiError as exc:
        audit_call(kernel, pharmacy_id, patient_id, operator_id, f"INSi a refusé : {exc.code}")
        return [notice("ins.insi_refused", "Appel INSi refusé", exc.message_fr, patient_id)]
    audit_call(kernel, pharmacy_id, patient_id, operator_id, f"CR {result.code} ({result.label})")
    return result_actions(kernel, pharmacy_id, patient_id, result)


def _pending_round(kernel: Kernel, pharmacy_id: int, patient_id: int) -> int:
    from sqlalchemy import func, select

    with kernel.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(outbox.OutboxMessage)
                .where(outbox.OutboxMessage.pharmacy_id == pharmacy_id, outbox.OutboxMessage.kind == KIND_RETRY)
            )
            or 0
        )


def audit_call(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, outcome: str) -> None:
    kernel.audit(
        pharmacy_id,
        "ins.insi_call",
        f"Appel INSi (recherche par traits) : {outcome}.",
        actor="ins",
        operator_id=operator_id,
        patient_id=patient_id,
    )


def result_actions(kernel: Kernel, pharmacy_id: int, patient_id: int, result: insi.Result) -> list[ActionRequired]:
    if result.code != "00" or len(result.identities) != 1:
        return [
            notice(
                "ins.more_traits" if result.code == "02" else "ins.not_found",
                "Recherche INSi",
                result.message_fr,
                patient_id,
            )
        ]
    found = result.identities[0]
    local = _traits(kernel, pharmacy_id, patient_id)
    differences = {
        label: (str(mine), str(theirs))
        for label, mine, theirs in (
            ("nom de naissance", local["birth_name"], found.birth_name),
            ("prénoms", " ".join(local["first_names"]), " ".join(found.first_names)),
            ("sexe", local["sex"], found.sex),
            ("date de naissance", local["birth_date"], found.birth_date),
            ("lieu de naissance", local["birth_place"] or "", found.birth_place_code or ""),
        )
        if not traits.same_name(str(mine), str(theirs))  # the RNIV comparison: « Noël » is « NOEL »
    }
    message = "Identité trouvée par INSi. " + (
        "Différences avec la fiche : "
        + "; ".join(f"{k} « {a} » → « {b} »" for k, (a, b) in differences.items())
        + ". Confirmez qu'il s'agit bien de ce patient."
        if differences
        else "Les traits concordent."
    )
    return [
        ActionRequired(
            kind="ins.insi_result",
            plugin="ins",
            title_fr="Identité INS trouvée : pièce d'identité ?",
            message_fr=message + " Vérifiez une pièce d'identité à haut niveau de confiance pour qualifier l'identité.",
            patient_id=patient_id,
            choices=(
                Choice("accept", "Accepter l'identité INSi"),
                *(Choice(k.name, k.value) for k in api.DocumentKind),
            ),
            data={"identity": asdict(found), "differences": differences},
        )
    ]


def accept(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, found: dict[str, Any]) -> Status:
    """The pharmacist accepted the identity INSi returned (``data["identity"]`` of the action)."""
    return api.record_insi_result(kernel, pharmacy_id, patient_id, operator_id, insi.Identity.stored(found))


def on_patient_selected(kernel: Kernel, event: PatientSelected) -> list[ActionRequired]:
    pharmacy_id, patient_id, operator_id = event.pharmacy_id, event.patient_id, event.operator_id
    with kernel.transaction() as session:
        row = api.identity_of(session, pharmacy_id, patient_id)
        if row is not None and (row.no_ins_reason or row.status == Status.QUALIFIEE):
            return []
        pending = row.pending_result if row is not None else None
        ask_document = False
        if row is not None and row.insi_checked and not pending:
            if row.prompts_left is None:
                ask_document = True
            elif row.prompts_left > 0:
                # "Aucune pièce présentée": ask again at the next dispensings, a limited number of times.
                row.prompts_left -= 1
                ask_document = True
            else:
                return []
    if pending:
        identity = insi.Identity.stored(pending)
        return result_actions(kernel, pharmacy_id, patient_id, insi.Result("00", "OK", (identity,)))
    if ask_document or not _settings(kernel, pharmacy_id).insi_endpoint:
        return api.qualification_actions(kernel, pharmacy_id, patient_id)
    if _called_just_now(kernel, pharmacy_id, patient_id):
        return []  # INSi answered a moment ago (the carte Vitale's search): its answer is on screen already
    return search(kernel, pharmacy_id, patient_id, operator_id)


#: A selection within this many seconds of an INSi call for the same patient does not call again.
RECENT_CALL_SECONDS = 60


def _called_just_now(kernel: Kernel, pharmacy_id: int, patient_id: int) -> bool:
    from datetime import timedelta

    from lgo.api import AuditEntry, utcnow
    from sqlalchemy import select

    with kernel.transaction() as session:
        last = session.scalar(
            select(AuditEntry.at)
            .where(
                AuditEntry.pharmacy_id == pharmacy_id,
                AuditEntry.patient_id == patient_id,
                AuditEntry.action == "ins.insi_call",
            )
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    return last is not None and utcnow() - last < timedelta(seconds=RECENT_CALL_SECONDS)


def retry(kernel: Kernel, delivery: Delivery) -> None:
    """Outbox handler: search again; an answer waits for the pharmacist's confirmation at the next selection."""
    payload = delivery.payload
    pharmacy_id, patient_id = delivery.pharmacy_id, int(payload["patient_id"])
    traits = _traits(kernel, pharmacy_id, patient_id)
    result = insi.search_by_traits(endpoint(kernel, pharmacy_id), context(kernel, pharmacy_id, "lgo"), **traits)
    audit_call(kernel, pharmacy_id, patient_id, payload.get("operator_id"), f"nouvel essai, CR {result.code}")
    if result.code == "00" and len(result.identities) == 1:
        with kernel.transaction() as session:
            api.identity_row(session, pharmacy_id, patient_id).pending_result = asdict(result.identities[0])
