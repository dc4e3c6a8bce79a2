"""The administrator's commands: declare the organisational mailbox and give habilitations (passwords asked, never
in arguments), then follow the messages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from lgo.demo_data import PASSWORD, Seeded
from lgo.kernel import Kernel
from lgo_mssante.cli import mssante
from lgo_mssante.model import Habilitation, MssAccount, MssHabilitation
from sqlalchemy import select


def test_an_administrator_declares_the_mailbox_and_the_habilitations(
    lgo_kernel: Kernel, lgo_seeded: Seeded, lgo_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lgo_mssante.plugin

    kernel = lgo_kernel
    kernel.close()
    from lgo.kernel import Kernel as _Kernel

    with_plugin = _Kernel(lgo_database_url, discover_installed=False, extra_plugins=(lgo_mssante.plugin,))
    with_plugin.upgrade_database()
    with_plugin.close()
    monkeypatch.setenv("LGO_DATABASE_URL", lgo_database_url)
    runner = CliRunner()
    refused = runner.invoke(
        mssante,
        ["boite-organisationnelle", "--adresse", "officine@pharmacie-demo.mssante.fr", "--admin", "preparatrice"],
        input=f"{PASSWORD}\n",
    )
    assert refused.exit_code != 0 and "administrateur" in refused.output
    added = runner.invoke(
        mssante,
        ["boite-organisationnelle", "--adresse", "officine@pharmacie-demo.mssante.fr", "--admin", "admin"],
        input=f"{PASSWORD}\nmot-de-passe-boite\n",
    )
    assert added.exit_code == 0, added.output
    assert "mot-de-passe-boite" not in added.output
    granted = runner.invoke(
        mssante,
        ["habilitation", "1", "--operateur", "adjoint", "--role", "Gestionnaire", "--admin", "admin"],
        input=f"{PASSWORD}\n",
    )
    assert granted.exit_code == 0, granted.output
    followed = runner.invoke(mssante, ["suivi"])
    assert followed.exit_code == 0 and "Aucun message MSSanté." in followed.output
    check = _Kernel(lgo_database_url, discover_installed=False, extra_plugins=(lgo_mssante.plugin,))
    try:
        with check.transaction() as session:
            account = session.scalars(select(MssAccount)).one()
            assert account.password_encrypted != "mot-de-passe-boite"
            row = session.scalars(select(MssHabilitation)).one()
            assert row.operator_id == lgo_seeded.operators["adjoint"] and row.habilitation == Habilitation.GESTIONNAIRE
    finally:
        check.close()
