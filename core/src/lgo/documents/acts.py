"""The life cycle a plugin act shares with the kernel's documents: billed, validated by the pharmacist, waiting for
the patient's qualified identity, then its documents produced, validated and shared (a TROD attestation, a plan
personnalisé de prévention...).

The act's statuses and messages stay the plugin's own words (each screen says them its way); what is one rule for
all is here: no document leaves without a qualified identity, the documents wait visibly and are produced as soon
as ``lgo_on_identity_qualified`` says the identity is qualified, by the pharmacist who validated the act.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from lgo.documents.service import validate
from lgo.errors import ValidationError
from lgo.identity import IdentityNotShareable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lgo.actions import ActionRequired
    from lgo.events import IdentityQualified
    from lgo.identity import SharedIdentity
    from lgo.kernel import Kernel


class Act(Protocol):
    """A plugin's record (:class:`lgo.db.records.PatientRecord`) with a ``status`` of the plugin's own enum."""

    id: int
    patient_id: int
    operator_id: int
    validated_by: int | None
    status: Any

    @classmethod
    def ids_of_patient(cls, session: Session, pharmacy_id: int, patient_id: int, *criteria: Any) -> list[int]: ...


A = TypeVar("A", bound=Act)


def editable(act: A, open_status: Any, name_fr: str) -> A:
    """``act`` while it is still being recorded (``open_status``); once billed, validated or cancelled it is
    refused in the plugin's words: « Ce TROD n'est plus modifiable (facturé, attestation à valider). »."""
    if act.status != open_status:
        raise ValidationError(
            f"Ce {name_fr} n'est plus modifiable ({act.status.label_fr}).", detail=f"{type(act).__name__} {act.id}"
        )
    return act


@dataclass(frozen=True)
class SharedAct(Generic[A]):
    """One kind of act of a plugin: its table, its statuses and its words, and what it produces and shares."""

    model: type[A]
    #: The act in its pharmacy (``NotFound`` in French otherwise): ``get(session, pharmacy_id, act_id)``.
    get: Callable[[Session, int, int], A]
    #: Checks that the operator is a pharmacist (RPPS), in the plugin's words: ``(session, pharmacy_id, operator)``.
    pharmacist: Callable[[Session, int, int], object]
    #: The statuses of the plugin's enum: billed (to validate), waiting for the identity, validated.
    billed: Any
    waiting_identity: Any
    validated: Any
    #: How the screens name the act in « Ce {name_fr} ne peut pas être validé » (« TROD », « bilan »).
    name_fr: str
    #: What waits, told to the pharmacist with the identity's qualification windows.
    waiting_fr: str
    #: The drafts of the act's documents, built in the transaction with the qualified identity; their ids, in the
    #: order they are validated.
    drafts: Callable[[Session, A, SharedIdentity], list[int]]
    #: Sends the validated documents (DMP, MSSanté): ``share(kernel, pharmacy_id, act_id)``.
    share: Callable[[Kernel, int, int], object]
    #: Called in the validation's transaction (the plugin's audit line, if it writes one): ``(session, act)``.
    on_validated: Callable[[Session, A], None] | None = None

    def validate(self, kernel: Kernel, pharmacy_id: int, act_id: int, operator_id: int) -> list[ActionRequired]:
        """The pharmacist validates the billed act: its documents are produced now when the identity is qualified,
        else as soon as it is (the identity's qualification windows are returned)."""
        with kernel.transaction() as session:
            act = self.get(session, pharmacy_id, act_id)
            if act.status != self.billed:
                raise ValidationError(
                    f"Ce {self.name_fr} ne peut pas être validé ({act.status.label_fr}).",
                    detail=f"{self.model.__name__} {act_id}",
                )
            self.pharmacist(session, pharmacy_id, operator_id)
            act.status, act.validated_by = self.waiting_identity, operator_id
            patient_id = act.patient_id
            if self.on_validated is not None:
                self.on_validated(session, act)
        return self.produce(kernel, pharmacy_id, act_id, patient_id)

    def produce(self, kernel: Kernel, pharmacy_id: int, act_id: int, patient_id: int) -> list[ActionRequired]:
        """The documents of an act waiting for the identity, once it is qualified: drafted, validated, shared."""
        try:
            identity = kernel.shareable_identity(pharmacy_id, patient_id)
        except IdentityNotShareable as exc:
            return kernel.identity_actions(pharmacy_id, patient_id, exc, self.waiting_fr)
        with kernel.transaction() as session:
            act = self.get(session, pharmacy_id, act_id)
            if act.status != self.waiting_identity:
                return []
            document_ids = self.drafts(session, act, identity)
            act.status = self.validated
            validator = act.validated_by or act.operator_id
        actions: list[ActionRequired] = []
        for document_id in document_ids:
            actions += validate(kernel, pharmacy_id, document_id, validator)
        self.share(kernel, pharmacy_id, act_id)
        return actions

    def on_identity_qualified(self, kernel: Kernel, event: IdentityQualified) -> None:
        """``lgo_on_identity_qualified``: the patient's acts that waited for the identity produce their documents."""
        with kernel.transaction() as session:
            waiting = self.model.ids_of_patient(
                session, event.pharmacy_id, event.patient_id, self.model.status == self.waiting_identity
            )
        for act_id in waiting:
            self.produce(kernel, event.pharmacy_id, act_id, event.patient_id)
