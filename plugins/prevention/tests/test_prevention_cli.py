"""``lgo prevention``: a bilan from the command line, the themes of a band, the list."""

from __future__ import annotations

from pathlib import Path

import lgo_prevention.plugin
import pytest
from click.testing import CliRunner
from lgo.demo_data import PASSWORD, Seeded
from lgo.kernel import Kernel
from lgo_prevention import bands
from lgo_prevention.cli import prevention


def test_a_bilan_from_the_command_line(
    lgo_kernel: Kernel, lgo_seeded: Seeded, lgo_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lgo_kernel.close()
    with_plugin = Kernel(lgo_database_url, discover_installed=False, extra_plugins=(lgo_prevention.plugin,))
    with_plugin.upgrade_database()
    with_plugin.start()
    with_plugin.enable(lgo_seeded.pharmacy_id, "prevention")
    with_plugin.close()
    monkeypatch.setenv("LGO_DATABASE_URL", lgo_database_url)
    runner = CliRunner()
    themes = runner.invoke(prevention, ["themes", "70-75"])
    assert "memoire : Mémoire — Oublis, difficultés dans la vie quotidienne." in themes.output
    arguments = ["bilan", str(lgo_seeded.patients["amadou"]), "--operateur", "adjoint"]
    arguments += [f"--note={code}=Rien à signaler." for code in bands.BANDS["45-50"].themes]
    arguments += ["--priorite", "tabac|Arrêter le tabac|Substituts nicotiniques, Tabac info service"]
    arguments += ["--plan", str(tmp_path / "plan.pdf")]
    done = runner.invoke(prevention, arguments, input=f"{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert "Facture n° 1 : total 30,00 €" in done.output and "Qualifier l'identité du patient" in done.output
    assert (tmp_path / "plan.pdf").read_bytes().startswith(b"%PDF")
    again = runner.invoke(prevention, arguments, input=f"{PASSWORD}\n")
    assert again.exit_code != 0 and "un seul bilan par personne et par tranche d'âge" in again.output
    listed = runner.invoke(prevention, ["liste"])
    assert "45 à 50 ans — plan validé, en attente de la qualification de l'identité" in listed.output
