"""The ``ins`` plugin's published API: record what INSi returned and what identity document was checked, read the
status, and search INSi with a carte Vitale read by another plugin. Other plugins never read the matricule here: they
ask the kernel (``kernel.shareable_identity``), which this plugin answers only for a *qualifiée* identity.

A plugin using this module declares ``ins`` in its manifest and checks ``kernel.is_active(pharmacy_id, "ins")``
before calling it (the functions refuse with a French message when the plugin is off in the pharmacy)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from lgo.api import (
    ActionRequired,
    Choice,
    IdentityQualified,
    Patient,
    Pharmacy,
    SharedIdentity,
    ValidationError,
    get_scoped,
    traits,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from lgo_ins import insi, matricule
from lgo_ins.model import InsHistory, InsIdentity, Status

if TYPE_CHECKING:
    from lgo.api import Kernel

PLUGIN = "ins"


class DocumentKind(StrEnum):
    """Identity documents and their trust level (RNIV)."""

    PASSEPORT = "passeport"
    CNI = "carte nationale d'identité"
    TITRE_SEJOUR = "titre de séjour"
    LIVRET_FAMILLE = "livret de famille"
    ACTE_NAISSANCE = "extrait d'acte de naissance"

    @property
    def high_trust(self) -> bool:
        return self in (DocumentKind.PASSEPORT, DocumentKind.CNI, DocumentKind.TITRE_SEJOUR)


class DocumentAnswer(StrEnum):
    NONE_PRESENTED = "aucune pièce présentée"
    REFUSED = "refuse de présenter une pièce"
    DIFFERENT = "pièce différente des données INS"


#: An identity as INSi returned it (matricule with key, OID, INS traits, former matricules).
InsiTraits = insi.Identity


def identity_of(session: Session, pharmacy_id: int, patient_id: int) -> InsIdentity | None:
    """The patient's INS row, None before the first INSi search or identity document (a provisoire identity)."""
    return session.scalars(
        select(InsIdentity).where(InsIdentity.pharmacy_id == pharmacy_id, InsIdentity.patient_id == patient_id)
    ).one_or_none()


def identity_row(session: Session, pharmacy_id: int, patient_id: int) -> InsIdentity:
    """The patient's INS row, created (provisoire) on first use."""
    get_scoped(session, Patient, patient_id, pharmacy_id, "patient")  # in this pharmacy, else NotFound
    row = identity_of(session, pharmacy_id, patient_id)
    if row is None:
        row = InsIdentity(
            pharmacy_id=pharmacy_id,
            patient_id=patient_id,
            traits={},
            insi_checked=False,
            document_checked=False,
            doubtful=False,
            fictitious=False,
        )
        session.add(row)
        session.flush()
    return row


def status(kernel: Kernel, pharmacy_id: int, patient_id: int) -> Status:
    with kernel.transaction() as session:
        return identity_row(session, pharmacy_id, patient_id).status


def record_insi_result(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int | None,
    result: InsiTraits,
) -> Status:
    """INSi returned ``result`` for this patient (CR 00): keep the INS traits, former matricules, and the criterion."""
    history = result.history
    missing = traits.missing_ins_traits(
        birth_name=result.birth_name,
        first_names=tuple(result.first_names),
        sex=result.sex,
        birth_date=result.birth_date,
        birth_place_code=result.birth_place_code,
    )
    if missing:  # decision 0302: an identity without every INS trait cannot be qualified, nothing is recorded
        raise ValidationError(
            f"La réponse INSi est incomplète ({', '.join(missing)}) : l'identité ne peut pas être récupérée ni "
            "qualifiée avec elle. Relancez la recherche plus tard ; si la réponse reste incomplète, signalez-la à "
            "la cellule d'identitovigilance.",
            detail=f"INSi answer for patient {patient_id} lacks {missing}: {result.birth_place_code!r}",
        )
    with kernel.transaction() as session:
        pharmacy = session.get(Pharmacy, pharmacy_id)
        test_mode = bool(pharmacy and pharmacy.test_mode)
        checked = matricule.parse(result.matricule, result.oid, test_mode=test_mode)
        for former, oid in history:
            matricule.parse(former, oid, test_mode=test_mode)
        row = identity_row(session, pharmacy_id, patient_id)
        if row.matricule and row.matricule != checked.value:
            session.add(
                InsHistory(
                    pharmacy_id=pharmacy_id, patient_id=patient_id, matricule=row.matricule, oid=row.oid or result.oid
                )
            )
        for former, oid in history:
            session.add(InsHistory(pharmacy_id=pharmacy_id, patient_id=patient_id, matricule=former, oid=oid))
        was = row.status
        row.matricule, row.oid = checked.value, checked.oid
        row.traits = {
            "birth_name": result.birth_name.upper(),
            "first_names": [f.upper() for f in result.first_names],
            "sex": result.sex,
            "birth_date": result.birth_date,
            "birth_place_code": result.birth_place_code,
        }
        row.insi_checked = True
        now = row.status
        _audit(
            kernel,
            session,
            row,
            "ins.insi_result",
            f"Identité INS récupérée par INSi ({checked.authority}).",
            operator_id,
            now,
        )
    _announce(kernel, pharmacy_id, patient_id, operator_id, was, now)
    return now


def record_identity_document(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int | None,
    kind: DocumentKind,
    *,
    parent_document: DocumentKind | None = None,
    minor: bool = False,
) -> Status:
    """A document was checked against the identity. A livret de famille or an extrait d'acte de naissance counts
    only for a minor, together with a parent's high-trust document."""
    if not kind.high_trust and not (minor and parent_document is not None and parent_document.high_trust):
        raise ValidationError(
            f"« {kind.value} » n'est pas une pièce à haut niveau de confiance : pour un mineur, elle vaut avec la "
            "pièce d'identité d'un parent ; sinon demandez un passeport, une carte d'identité ou un titre de séjour."
        )
    return _document_checked(
        kernel, pharmacy_id, patient_id, operator_id, kind.value, f"Pièce d'identité vérifiée : {kind.value}."
    )


#: What ``document_kind`` says when the identity was qualified through the Appli carte Vitale (no document shown).
APCV = "appli carte Vitale"


def record_apcv_identity(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int | None,
    result: InsiTraits,
) -> Status:
    """The Appli carte Vitale returned the INS the health insurance qualified: its traits are recorded as an INSi
    answer, and the app replaces the identity document (its holder's identity was verified at enrolment, see
    docs/decisions/0822), so the identity becomes qualifiée."""
    record_insi_result(kernel, pharmacy_id, patient_id, operator_id, result)
    return _document_checked(
        kernel,
        pharmacy_id,
        patient_id,
        operator_id,
        APCV,
        "Identité vérifiée par l'appli carte Vitale (pas de pièce d'identité à demander).",
    )


def _document_checked(
    kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, document_kind: str, text: str
) -> Status:
    with kernel.transaction() as session:
        row = identity_row(session, pharmacy_id, patient_id)
        was = row.status
        row.document_checked = True
        row.document_kind = document_kind
        row.prompts_left = None
        row.document_note = None
        now = row.status
        _audit(kernel, session, row, "ins.document_checked", text, operator_id, now)
    _announce(kernel, pharmacy_id, patient_id, operator_id, was, now)
    return now


def _audit(
    kernel: Kernel,
    session: Session,
    row: InsIdentity,
    action: str,
    text: str,
    operator_id: int | None,
    now: Status | None = None,
) -> None:
    """The audit line of a change to ``row``, with the status it leads to when the change can move it."""
    kernel.audit(
        row.pharmacy_id,
        action,
        text,
        actor=PLUGIN,
        session=session,
        operator_id=operator_id,
        patient_id=row.patient_id,
        object_type="ins_identity",
        object_id=row.id,
        details={"status": now.value} if now is not None else None,
    )


def search_with_vitale(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int | None,
    *,
    nir: str,
    birth_date: str,
    rank: int,
    assertion: Any | None = None,
) -> list[ActionRequired]:
    """INSi ``rechercherInsAvecCarteVitale`` for one beneficiary of a carte Vitale (NIR of the holder, beneficiary's
    birth date and rank); the answer as actions for the counter (identity to accept, card required...). In INSI-MANU
    mode the operator's assertion comes from their unlocked CPS unless given."""
    _require_active(kernel, pharmacy_id)
    from lgo_ins import counter

    try:
        if assertion is None:
            assertion = counter.operator_assertion(kernel, pharmacy_id, operator_id)
    except counter.OperatorCardRequired as exc:
        return [counter.card_required(exc, patient_id)]
    try:
        result = insi.search_by_vitale(
            counter.endpoint(kernel, pharmacy_id),
            counter.context(kernel, pharmacy_id, "lgo"),
            nir=nir,
            birth_date=birth_date,
            rank=rank,
            assertion=assertion,
        )
    except (insi.InsiUnavailable, insi.InsiError) as exc:
        counter.audit_call(kernel, pharmacy_id, patient_id, operator_id, f"carte Vitale : {exc.message_fr}")
        return [counter.notice("ins.insi_failed", "Recherche INSi (carte Vitale)", exc.message_fr, patient_id)]
    counter.audit_call(kernel, pharmacy_id, patient_id, operator_id, f"carte Vitale : CR {result.code}")
    return counter.result_actions(kernel, pharmacy_id, patient_id, result)


def record_card_identity(
    kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, identity: SharedIdentity
) -> Status:
    """An INS the health insurance already qualified, read from the Appli carte Vitale (see
    :func:`record_apcv_identity`)."""
    _require_active(kernel, pharmacy_id)
    found = insi.Identity.of(identity, birth_place_code=identity.birth_place_code)
    return record_apcv_identity(kernel, pharmacy_id, patient_id, operator_id, found)


def _require_active(kernel: Kernel, pharmacy_id: int) -> None:
    if not kernel.is_active(pharmacy_id, PLUGIN):
        raise ValidationError(
            "Le module INS n'est pas actif dans l'officine : pas de recherche ni d'enregistrement d'INS.",
            detail="ins plugin not active",
        )


def record_document_answer(
    kernel: Kernel,
    pharmacy_id: int,
    patient_id: int,
    operator_id: int | None,
    answer: DocumentAnswer,
    *,
    reprompts: int = 3,
) -> None:
    """No document today: "aucune pièce présentée" asks again at the next ``reprompts`` dispensings."""
    with kernel.transaction() as session:
        row = identity_row(session, pharmacy_id, patient_id)
        row.document_note = answer.value
        if answer == DocumentAnswer.NONE_PRESENTED:
            row.prompts_left = reprompts
        elif answer == DocumentAnswer.DIFFERENT:
            row.doubtful = True
        _audit(kernel, session, row, "ins.document_answer", f"Pièce d'identité : {answer.value}.", operator_id)


def record_no_ins(kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, reason_fr: str) -> None:
    """A patient who cannot have an INS (anonymat réglementaire, not registered in France)."""
    with kernel.transaction() as session:
        row = identity_row(session, pharmacy_id, patient_id)
        row.no_ins_reason = reason_fr[:120]
        _audit(kernel, session, row, "ins.no_ins", f"Patient sans INS : {reason_fr}", operator_id)


def demote(kernel: Kernel, pharmacy_id: int, patient_id: int, changed: tuple[str, ...]) -> None:
    """A strict trait changed locally: the INS traits no longer vouch for the identity."""
    with kernel.transaction() as session:
        row = identity_row(session, pharmacy_id, patient_id)
        if row.status == Status.PROVISOIRE:
            return
        was = row.status
        row.insi_checked = False
        row.document_checked = False
        _audit(
            kernel,
            session,
            row,
            "ins.demoted",
            f"Identité rétrogradée ({was.value} → provisoire) : trait strict modifié ({', '.join(changed)}).",
            None,
        )


def shareable(kernel: Kernel, pharmacy_id: int, patient_id: int) -> SharedIdentity | None:
    """The identity for sharing, or None below *qualifiée* (or when doubtful / fictitious / without INS)."""
    with kernel.transaction() as session:
        row = identity_of(session, pharmacy_id, patient_id)
        if row is None or row.status != Status.QUALIFIEE or row.doubtful or row.fictitious or row.no_ins_reason:
            return None
        traits: dict[str, Any] = row.traits
        assert row.matricule and row.oid
        return SharedIdentity(
            patient_id=patient_id,
            matricule=row.matricule,
            oid=row.oid,
            birth_name=traits["birth_name"],
            first_names=tuple(traits["first_names"]),
            sex=traits["sex"],
            birth_date=traits["birth_date"],
            birth_place_code=traits.get("birth_place_code"),
        )


def qualification_actions(kernel: Kernel, pharmacy_id: int, patient_id: int) -> list[ActionRequired]:
    """What to ask at the counter to qualify the identity (empty when already qualified)."""
    current = status(kernel, pharmacy_id, patient_id)
    if current == Status.QUALIFIEE:
        return []
    choices = tuple(Choice(kind.name, kind.value) for kind in DocumentKind) + tuple(
        Choice(answer.name, answer.value) for answer in DocumentAnswer
    )
    return [
        ActionRequired(
            kind="ins.qualify",
            plugin=PLUGIN,
            title_fr="Qualifier l'identité du patient",
            message_fr=f"Identité {current.value} : vérifiez une pièce d'identité à haut niveau de confiance"
            + (" après l'appel INSi." if current in (Status.PROVISOIRE, Status.VALIDEE) else "."),
            patient_id=patient_id,
            choices=choices,
            data={"status": current.value, "prompts_left": _prompts_left(kernel, pharmacy_id, patient_id)},
        )
    ]


def _prompts_left(kernel: Kernel, pharmacy_id: int, patient_id: int) -> int | None:
    with kernel.transaction() as session:
        return identity_row(session, pharmacy_id, patient_id).prompts_left


def _announce(
    kernel: Kernel, pharmacy_id: int, patient_id: int, operator_id: int | None, was: Status, now: Status
) -> None:
    if now == Status.QUALIFIEE and was != Status.QUALIFIEE:
        kernel.hooks.on_identity_qualified(
            IdentityQualified(pharmacy_id=pharmacy_id, operator_id=operator_id, patient_id=patient_id)
        )
