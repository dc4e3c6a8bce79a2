"""The Dossier Pharmaceutique section of the patient's file at the counter (``Alt+P``): the patient's DP as this
pharmacy knows it (read from the database), and — for an operator allowed to consult, on a qualified identity — the
12 months of every pharmacy merged with this pharmacy's lines as a *fragment* of the plugin's blueprint, fetched
after the file is shown: the file never waits for the DP. The fragment is the DP key's consultation
(:func:`lgo_dp.counter.history`), traced with the operator's name like it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lgo.api import FileLink, Operator, PatientFileSection

from lgo_dp import access, consent, counter
from lgo_dp.transport import FileState

if TYPE_CHECKING:
    from lgo.api import Kernel, PatientFileView

ANCHOR = "dp"
TITLE_FR = "Dossier Pharmaceutique"
#: After the kernel's dispensings (20), before the documents produced here (40).
ORDER = 30
#: The blueprint's page of the history (the fragment, and the whole page without JavaScript).
ENDPOINT = "dp.file_history"
NOT_HABILITATED_FR = (
    "Vous n'êtes pas habilité(e) à consulter le Dossier Pharmaceutique (habilitation « Consulter le Dossier "
    "Pharmaceutique »)."
)
NO_FILE_FR = (
    f"Ce patient n'a pas de Dossier Pharmaceutique : proposez-lui sa création au comptoir avec {counter.CONSULT_KEY} "
    "(créer le DP avec son accord, ou enregistrer son refus, valable 10 ans)."
)


def no_file(state: FileState | None) -> bool:
    """The patient has no DP (as far as this pharmacy knows): creation or refusal to propose."""
    return state is FileState.NONE


def sections(kernel: Kernel, view: PatientFileView) -> list[PatientFileSection]:
    with kernel.transaction() as session:
        operator = session.get(Operator, view.operator_id)
        may_consult = operator is not None and operator.has(access.HABILITATION_CONSULT)
    if not may_consult:
        # Nothing of the patient's DP, and no link that would answer "non habilité".
        return [PatientFileSection(ANCHOR, TITLE_FR, lines_fr=(NOT_HABILITATED_FR,), order=ORDER)]
    # The patient's DP as this pharmacy knows it: the line of the patient banner.
    lines = list(counter.banner_lines(kernel, view.pharmacy_id, view.patient_id))
    if no_file(consent.consent(kernel, view.pharmacy_id, view.patient_id).state):
        lines.append(NO_FILE_FR)
    if not kernel.is_identity_shareable(view.pharmacy_id, view.patient_id):
        lines.append(access.IDENTITY_REQUIRED_FR)
        return [PatientFileSection(ANCHOR, TITLE_FR, lines_fr=tuple(lines), order=ORDER)]
    fragment = FileLink(
        "Historique du DP : 12 derniers mois, toutes les officines", ENDPOINT, (("patient_id", view.patient_id),)
    )
    return [PatientFileSection(ANCHOR, TITLE_FR, lines_fr=tuple(lines), fragment=fragment, order=ORDER)]
