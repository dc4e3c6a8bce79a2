"""The DP's page of the patient's file (blueprint ``dp``, under ``/plugins/dp/``): the merged 12-month history of the
DP key's window (:func:`lgo_dp.counter.history`, one code path), as the *fragment* of the DP section of the patient's
file (header ``X-LGO-Fragment``) or as a whole counter page without JavaScript. The consultation checks the
operator's habilitation and the patient's qualified identity, and traces the access with the operator's name."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, render_template, request
from lgo.api import (
    IdentityNotShareable,
    LgoError,
    NotFound,
    Patient,
    PermissionDenied,
    get_scoped,
    signed_in,
    web_kernel,
)

from lgo_dp import counter, file

log = logging.getLogger(__name__)
blueprint = Blueprint("dp", __name__)


def _problem(exc: LgoError) -> int:
    """The HTTP status of a refusal (habilitation, identity) or of the DP's failure."""
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, IdentityNotShareable):
        return 409
    log.warning("DP history for the patient's file failed: %s", exc.detail or exc)
    return 502


@blueprint.route("/patients/<patient_id>/historique")
def file_history(patient_id: str) -> Any:
    kernel = web_kernel()
    pharmacy_id, operator_id = signed_in()
    try:
        with kernel.transaction() as db:
            patient = get_scoped(db, Patient, patient_id, pharmacy_id, "patient").id
    except NotFound:
        abort(404)  # another pharmacy's patient, or no number at all: as if it did not exist
    found: counter.History | None = None
    error_fr, status = "", 200
    try:
        found = counter.history(kernel, pharmacy_id, operator_id, patient)
    except LgoError as exc:
        error_fr, status = exc.message_fr, _problem(exc)
    template = "dp/_file.html" if request.headers.get("X-LGO-Fragment") else "dp/file.html"
    return render_template(
        template,
        patient_id=patient,
        found=found,
        error_fr=error_fr,
        no_file_fr=file.NO_FILE_FR,
        title_fr=file.TITLE_FR,
    ), status
