"""Every attempt to consult a patient's DMP is in the audit log with its outcome and the operator's name, whatever
happens: the DMP down, too slow, losing its answer after running the query, refusing, knowing no DMP for the
patient; a patient id unknown to the pharmacy; an operator without the habilitation (issue 16)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from dmp_helpers import XDS_PATIENT, DmpWorld
from lgo.cli import main
from lgo.demo_data import PASSWORD
from lgo.domain.audit import AuditEntry
from lgo.errors import LgoError, NotFound, PermissionDenied
from lgo_dmp import service
from lgo_dmp.access import ATTEMPT, FAILED, REFUSED
from lgo_dmp.client import DmpRefused, DmpUnavailable
from sqlalchemy import select


def _attempts_and_outcomes(world: DmpWorld) -> list[tuple[AuditEntry, AuditEntry | None]]:
    with world.kernel.transaction() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("dmp.%")).order_by(AuditEntry.id)))
        for row in rows:
            session.expunge(row)
    outcomes = {row.details.get("attempt"): row for row in rows if "attempt" in row.details}
    return [(row, outcomes.get(row.id)) for row in rows if row.action == ATTEMPT]


def test_every_attempt_is_traced_before_the_call_and_completed_with_its_outcome(dmp_world: DmpWorld) -> None:
    world, sandbox = dmp_world, dmp_world.sandbox
    world.identity.qualified.add(world.patient_id)
    titulaire, patient = world.seeded.operators["titulaire"], world.patient_id
    settings = world.kernel.plugin_settings(world.pharmacy_id, "dmp").model_dump()

    def consult(operator: int = titulaire, patient_id: int = patient) -> None:
        service.list_documents(world.kernel, world.pharmacy_id, operator, patient_id)

    sandbox.down = True
    with pytest.raises(DmpUnavailable, match="ne répond pas"):
        consult()
    sandbox.down = False
    world.kernel.save_plugin_settings(world.pharmacy_id, "dmp", {**settings, "timeout_seconds": 0.2})
    sandbox.delay = 1.0
    with pytest.raises(DmpUnavailable):
        consult()
    sandbox.delay = 0.0
    world.kernel.save_plugin_settings(world.pharmacy_id, "dmp", settings)
    sandbox.lose_answers = 1  # the DMP ran the query, its answer was lost
    with pytest.raises(DmpUnavailable):
        consult()
    sandbox.refusal = ("XDSRegistryError", "Accès refusé par le DMP.")
    with pytest.raises(DmpRefused):
        consult()
    sandbox.refusal = None
    sandbox.unknown_patients = {XDS_PATIENT}
    with pytest.raises(DmpRefused, match="Aucun DMP"):
        consult()
    sandbox.unknown_patients = set()
    with pytest.raises(NotFound, match="Patient n° 999999 introuvable"):
        consult(patient_id=999_999)  # used to crash with IntegrityError while writing the refusal
    with pytest.raises(NotFound):
        consult(patient_id=2**40)  # beyond what the database can hold: traced and refused all the same
    with pytest.raises(PermissionDenied):
        consult(operator=world.seeded.operators["preparatrice"])
    consult()

    traced = _attempts_and_outcomes(world)
    assert len(traced) == 9
    assert all(outcome is not None for _attempt, outcome in traced)
    outcomes = [outcome.action for _attempt, outcome in traced if outcome is not None]
    assert outcomes == [FAILED, FAILED, FAILED, REFUSED, REFUSED, REFUSED, REFUSED, REFUSED, "dmp.consult.list"]
    for attempt, outcome in traced:
        assert outcome is not None and attempt.id < outcome.id
        name = "Inès Roux-Démo" if attempt.operator_id == world.seeded.operators["preparatrice"] else "Claire"
        assert name in attempt.message_fr and name in outcome.message_fr
    unknown = [attempt for attempt, _outcome in traced if attempt.details.get("patient_given") == "999999"]
    assert unknown and unknown[0].patient_id is None
    with world.kernel.transaction() as session:
        history = service.access_history(session, world.pharmacy_id, patient)
    # One line per attempt for this patient (the two unknown ids are not hers), newest first, with its outcome.
    assert [access.action for access in history] == [
        "dmp.consult.list",
        REFUSED,
        REFUSED,
        REFUSED,
        FAILED,
        FAILED,
        FAILED,
    ]
    assert all(access.asked_at is not None for access in history)
    assert "Inès Roux-Démo" in history[1].message_fr and "habilitation manquante" in history[1].message_fr


def test_an_access_interrupted_in_the_middle_is_completed_as_failed(
    dmp_world: DmpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = dmp_world
    world.identity.qualified.add(world.patient_id)

    def killed(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt  # the process stops in the middle of the call

    monkeypatch.setattr("lgo_dmp.client.DmpClient.find_documents", killed)
    with pytest.raises(KeyboardInterrupt):
        service.list_documents(world.kernel, world.pharmacy_id, world.seeded.operators["titulaire"], world.patient_id)
    with world.kernel.transaction() as session:
        (access,) = service.access_history(session, world.pharmacy_id, world.patient_id)
    assert access.action == FAILED and "KeyboardInterrupt" in access.message_fr


def test_the_command_line_consultation_of_an_unknown_patient_is_refused_in_french(
    dmp_world: DmpWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LGO_DATABASE_URL", str(dmp_world.kernel.engine.url.render_as_string(hide_password=False)))
    result = CliRunner().invoke(main, ["dmp", "consulter", "999", "--operateur", "titulaire"], input=f"{PASSWORD}\n")
    assert result.exit_code == 1, result.output
    assert "Erreur : Patient n° 999 introuvable dans l'officine." in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, LgoError)
    traced = _attempts_and_outcomes(dmp_world)
    assert len(traced) == 1 and traced[0][1] is not None and traced[0][1].action == REFUSED
