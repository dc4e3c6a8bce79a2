"""What ``lgo.api`` gives a plugin's commands and tables: the pharmacy opened for a command (closed even on error),
the operator who types their password, and the columns of a record about one patient."""

from __future__ import annotations

from datetime import datetime

import click
import pytest
from click.testing import CliRunner
from lgo.api import NAMING_CONVENTION, PatientRecord, french_errors, opened_pharmacy, prompt_operator
from lgo.demo_data import PASSWORD, Seeded
from lgo.kernel import Kernel
from sqlalchemy import MetaData, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


@click.command()
@click.argument("code")
@french_errors
def whoami(code: str) -> None:
    with opened_pharmacy() as (kernel, pharmacy_id):
        click.echo(f"officine {pharmacy_id}, opérateur {prompt_operator(kernel, pharmacy_id, code)}")


def test_a_command_opens_the_pharmacy_and_asks_the_operator_for_their_password(
    lgo_kernel: Kernel, lgo_seeded: Seeded, lgo_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lgo_kernel.close()
    monkeypatch.setenv("LGO_DATABASE_URL", lgo_database_url)
    runner = CliRunner()
    done = runner.invoke(whoami, ["adjoint"], input=f"{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert "Mot de passe de adjoint" in done.output and PASSWORD not in done.output  # hidden
    assert f"officine {lgo_seeded.pharmacy_id}, opérateur {lgo_seeded.operators['adjoint']}" in done.output
    refused = runner.invoke(whoami, ["adjoint"], input="pas-le-bon\n")
    assert refused.exit_code == 1 and "Erreur : Code ou mot de passe incorrect." in refused.output
    assert "Traceback" not in refused.output


def test_the_kernel_is_closed_when_the_command_fails(
    lgo_kernel: Kernel, lgo_seeded: Seeded, lgo_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lgo_kernel.close()
    monkeypatch.setenv("LGO_DATABASE_URL", lgo_database_url)
    closed: list[Kernel] = []
    close = Kernel.close
    monkeypatch.setattr(Kernel, "close", lambda self: (closed.append(self), close(self))[-1])
    with pytest.raises(RuntimeError), opened_pharmacy() as (kernel, _pharmacy_id):
        raise RuntimeError("la commande échoue")
    assert closed == [kernel]


class RemindersBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Reminder(PatientRecord, RemindersBase):
    __tablename__ = "reminders_reminder"

    theme: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="open")


def test_a_patient_record_reads_like_its_migration_and_finds_a_patient_s_rows() -> None:
    assert [c.name for c in Reminder.__table__.columns] == [
        "id",
        "pharmacy_id",
        "patient_id",
        "operator_id",
        "theme",
        "status",
        "validated_by",
        "created_at",
        "updated_at",
    ]
    assert {i.name for i in Reminder.__table__.indexes} == {
        "ix_reminders_reminder_pharmacy_id",
        "ix_reminders_reminder_patient_id",
    }
    engine = create_engine("sqlite://")
    RemindersBase.metadata.create_all(engine)
    with Session(engine) as session:
        rows = [(1, 7, "open"), (1, 7, "waiting"), (1, 8, "waiting"), (2, 7, "waiting"), (1, 7, "waiting")]
        for pharmacy_id, patient_id, status in rows:
            session.add(
                Reminder(pharmacy_id=pharmacy_id, patient_id=patient_id, operator_id=1, theme="t", status=status)
            )
        session.flush()
        assert Reminder.ids_of_patient(session, 1, 7) == [1, 2, 5]
        assert Reminder.ids_of_patient(session, 1, 7, Reminder.status == "waiting") == [2, 5]
        first = session.get(Reminder, 1)
        assert first is not None and isinstance(first.created_at, datetime) and first.validated_by is None
        before = first.updated_at
        first.status = "done"
        session.flush()
        assert first.updated_at >= before
