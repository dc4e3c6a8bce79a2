"""``lgo depistage``: a whole TROD from the command line (password asked, never in arguments), the list, the
questionnaire, errors in French."""

from __future__ import annotations

from pathlib import Path

import lgo_depistage.plugin
import pytest
from click.testing import CliRunner
from lgo.demo_data import PASSWORD, Seeded
from lgo.kernel import Kernel
from lgo_depistage.cli import depistage

ANSWERS = [
    "temperature=38,4",
    "grossesse=non",
    "immunodepression=non",
    "antibiotique_en_cours=non",
    "signes_complication=non",
    "retour_pays_tropical=non",
    "troubles_digestifs=non",
    "toux_absente=oui",
    "adenopathies=oui",
    "amygdales=oui",
    "allergie_penicilline=non",
    "contre_indication_cephalosporines=non",
]


def test_a_trod_from_the_command_line(
    lgo_kernel: Kernel, lgo_seeded: Seeded, lgo_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lgo_kernel.close()
    with_plugin = Kernel(lgo_database_url, discover_installed=False, extra_plugins=(lgo_depistage.plugin,))
    with_plugin.upgrade_database()
    with_plugin.start()
    with_plugin.enable(lgo_seeded.pharmacy_id, "depistage")
    with_plugin.close()
    monkeypatch.setenv("LGO_DATABASE_URL", lgo_database_url)
    runner = CliRunner()
    questions = runner.invoke(depistage, ["questionnaire", "cystite"])
    assert "douleur_lombaire (oui_non) : Douleur lombaire ou du flanc (exclut du protocole si oui)" in questions.output
    arguments = ["trod", str(lgo_seeded.patients["camille"]), "angine", "--operateur", "titulaire"]
    arguments += [f"--reponse={answer}" for answer in ANSWERS]
    arguments += ["--scan", "(01)03612345678904(17)491231(10)LOT-CLI", "--resultat", "streptocoque=positif"]
    arguments += ["--antibiotique", "amoxicilline", "--cip13", lgo_seeded.products["amoxicilline"]]
    arguments += ["--medecin", "Dr Aline FABRE-DÉMO", "--attestation", str(tmp_path / "attestation.pdf")]
    done = runner.invoke(depistage, arguments, input=f"{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert PASSWORD not in done.output
    for expected in (
        "TROD n° 1 : éligible au protocole.",
        "Antibiotiques du protocole : amoxicilline.",
        "Posologie : 1 g matin et soir pendant 6 jours.",
        "Facture n° 1 : total 17,32 €",
        "À faire : Qualifier l'identité du patient",
    ):
        assert expected in done.output
    assert (tmp_path / "attestation.pdf").read_bytes().startswith(b"%PDF")
    listed = runner.invoke(depistage, ["liste"])
    assert (
        "n° 1 — patient n° 1 — TROD angine (streptocoque du groupe A) — positif — validé, en attente" in listed.output
    )
    refused = runner.invoke(
        depistage, ["trod", "1", "rougeole", "--operateur", "titulaire", "--resultat", "x=y"], input=f"{PASSWORD}\n"
    )
    assert refused.exit_code != 0 and "Type de TROD inconnu : « rougeole »" in refused.output
