"""``lgo dp …`` as an operator uses it: French output, the operator's password asked, French errors without a
traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from dp_helpers import SQLITE_ONLY, DpWorld
from lgo.demo_data import PASSWORD
from lgo_dp.cli import dp


@SQLITE_ONLY
def test_recalls_are_listed_and_acknowledged_from_the_command_line(
    dp_world: DpWorld, lgo_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = dp_world
    a = world.a
    monkeypatch.setenv("LGO_DATABASE_URL", lgo_database_url)
    monkeypatch.setenv("LGO_PHARMACY", world.finess[a.pharmacy_id])
    world.dispense(a, "camille", [("amoxicilline", 1)], lot="AM24C")
    world.sandbox.publish(
        "rappel",
        "Rappel du lot AM24C",
        "Retirer le lot.",
        products=[{"cip13": a.products["amoxicilline"], "lots": ["AM24C"]}],
    )
    runner = CliRunner()
    fetched = runner.invoke(dp, ["relever"])
    assert fetched.exit_code == 0 and "1 nouveau(x) rappel(s) ou alerte(s)." in fetched.output
    listed = runner.invoke(dp, ["rappels"])
    assert "Rappel de lots (DP-Rappels) — Rappel du lot AM24C (ANSM)" in listed.output
    assert "Délivré à : CAMILLE MARTIN-DÉMO" in listed.output
    bulletin = listed.output.split("n° ")[1].split(" ")[0]

    done = runner.invoke(dp, ["acquitter", bulletin, "--operateur", "preparatrice"], input=f"{PASSWORD}\n")
    assert done.exit_code == 0 and "Accusé de lecture enregistré." in done.output
    again = runner.invoke(dp, ["acquitter", bulletin, "--operateur", "titulaire"], input=f"{PASSWORD}\n")
    assert again.exit_code == 1 and "Erreur : Ce bulletin a déjà été lu par Inès Roux-Démo" in again.output
    assert "Traceback" not in again.output
    assert "Aucun rappel ni alerte en attente de lecture." in runner.invoke(dp, ["rappels"]).output

    # The command's own kernel has no identity plugin here: the DP is refused, in French.
    refused = runner.invoke(
        dp, ["consulter", str(a.patients["camille"]), "--operateur", "titulaire"], input=f"{PASSWORD}\n"
    )
    assert refused.exit_code == 1 and "exige une INS qualifiée" in refused.output
    followed = runner.invoke(dp, ["suivi", "--patient", str(a.patients["camille"])])
    assert "AMOXICILLINE" in followed.output and "lot AM24C" in followed.output
