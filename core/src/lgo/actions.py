"""Typed *action required* objects: what a hook asks of the person at the counter.

The kernel never waits for a person. A hook returns one of these; the caller (CLI, web page, a vendor's
counter UI) renders it and calls the plugin back with the answer. Plugins subclass :class:`ActionRequired`
to add typed fields; ``kind`` lets a UI that does not know the subclass still render ``title_fr`` and
``message_fr`` with the generic ``choices``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Choice:
    value: str
    label_fr: str


@dataclass(frozen=True)
class ActionRequired:
    kind: str
    plugin: str
    title_fr: str
    message_fr: str = ""
    #: The patient or the object the action is about, if any.
    patient_id: int | None = None
    choices: tuple[Choice, ...] = ()
    #: True when the billing may not end before the action is answered (rare: most actions can wait).
    blocking: bool = False
    data: dict[str, Any] = field(default_factory=dict)


#: The kind of the action a plugin returns to make the counter select a patient (a carte Vitale beneficiary chosen,
#: an INS Datamatrix or an Appli carte Vitale scanned): ``patient_id`` is the patient, ``data["source"]`` how it
#: was found ("vitale", "appli_vitale", "datamatrix_ins"...). The counter selects the patient, which announces
#: :class:`lgo.events.PatientSelected` as any selection does.
SELECT_PATIENT = "counter.select_patient"


#: ``data`` key the kernel sets on the actions :meth:`lgo.kernel.Kernel.identity_actions` returns, so that a plugin
#: can tell "waiting for the identity" apart from its own actions without naming the identity plugin.
IDENTITY_REQUEST = "identity_request"


def is_identity_request(action: ActionRequired) -> bool:
    """True for an action asking to qualify the patient's identity (see :data:`IDENTITY_REQUEST`)."""
    return bool(action.data.get(IDENTITY_REQUEST))


def select_patient(plugin: str, patient_id: int, source: str) -> ActionRequired:
    """The action that makes the counter select ``patient_id`` (see :data:`SELECT_PATIENT`)."""
    return ActionRequired(
        kind=SELECT_PATIENT,
        plugin=plugin,
        title_fr="Patient sélectionné",
        patient_id=patient_id,
        data={"source": source},
    )
