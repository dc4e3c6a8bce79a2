"""``lgo export``, ``lgo import`` and ``lgo indicateurs``: the pharmacy's data leaves and comes back (data
portability, :mod:`lgo.portability`), and where it stands on the REMU NUM indicators (:mod:`lgo.indicators`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lgo.cli import FrenchError, current_pharmacy_id, french_errors, open_kernel

if TYPE_CHECKING:
    from lgo.kernel import Kernel


class _Bar:
    """A progress bar on standard error, made when the total is first known (one per step)."""

    def __init__(self, unit_fr: str) -> None:
        self.unit_fr = unit_fr
        self._bars: dict[str, Any] = {}
        self._shown: dict[str, int] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        bar = self._bars.get(step)
        if bar is None:
            bar = self._bars[step] = click.progressbar(
                length=max(total, 1), label=f"{step} ({total} {self.unit_fr})", file=sys.stderr, show_pos=True
            )
            bar.__enter__()
            self._shown[step] = 0
        bar.update(done - self._shown[step])
        self._shown[step] = done
        if done >= total:
            bar.__exit__(None, None, None)

    def close(self) -> None:
        for step, bar in self._bars.items():
            if self._shown[step] < bar.length:
                bar.__exit__(None, None, None)


def _patient_id(kernel: Kernel, pharmacy_id: int, text: str) -> int:
    """A patient by the number shown on their file (the patient's id in this pharmacy)."""
    from lgo.domain.patients import Patient
    from lgo.domain.scoped import get_scoped

    if not text.isdigit():
        raise FrenchError(f"Patient : un numéro de dossier est attendu, pas « {text} ».")
    with kernel.reading() as session:
        return get_scoped(session, Patient, int(text), pharmacy_id, "patient").id


@click.command(name="export")
@click.option(
    "--patient",
    "patient",
    metavar="NUMERO",
    help="Exporter le seul dossier de ce patient (numéro du dossier), tout de suite ; sans cette option, toute "
    "l'officine.",
)
@click.option(
    "--dossier",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Dossier où écrire l'archive PAAAAMMJJThhmmss.ZIP.",
)
@click.option("--commentaire", "comments", default="", help="Commentaire écrit dans le manifeste.")
@french_errors
def export_command(patient: str | None, folder: Path, comments: str) -> None:
    """Exporte les données de l'officine (ou d'un patient) dans une archive de portabilité signée.

    L'archive suit le format de portabilité de l'ANS (PDLGC) adapté à l'officine : manifeste signé avec le
    certificat de l'officine, documentation des fichiers et des champs, une archive IHE XDM par patient. Elle se
    relit avec « lgo import » sur un autre serveur, ou par le logiciel d'un autre éditeur.
    """
    from lgo.portability.exporter import export

    kernel = open_kernel()
    pharmacy_id = current_pharmacy_id(kernel)
    patient_id = _patient_id(kernel, pharmacy_id, patient) if patient else None
    folder.mkdir(parents=True, exist_ok=True)
    bar = _Bar("dossiers patients")
    try:
        result = export(
            kernel,
            pharmacy_id,
            folder,
            patient_id=patient_id,
            comments=comments,
            progress=lambda done, total: bar("Export", done, total),
        )
    finally:
        bar.close()
    click.echo(result.summary_fr)
    click.echo(str(result.path))


@click.command(name="import")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--autorites",
    "authorities",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Fichier PEM des autorités de confiance (IGC-Santé) : la chaîne du certificat de signature est vérifiée "
    "jusqu'à elles.",
)
@click.option(
    "--verifier-seulement",
    "check_only",
    is_flag=True,
    help="Vérifier l'archive (signature, empreintes, ce serveur peut la recevoir) sans rien écrire.",
)
@french_errors
def import_command(archive: Path, authorities: Path | None, check_only: bool) -> None:
    """Importe une archive de portabilité dans une officine vide (déménagement, changement de logiciel).

    Avant d'écrire quoi que ce soit : la signature du manifeste et l'empreinte SHA-256 de chaque archive sont
    vérifiées. L'import se fait en une seule transaction : l'officine est reprise entièrement, ou pas du tout.
    La base doit être à jour (« lgo db upgrade ») et ne pas contenir déjà cette officine.
    """
    from lgo.errors import LgoError
    from lgo.portability.importer import import_archive, refusal_lines_fr
    from lgo.portability.verify import verify

    kernel = open_kernel()
    pem = authorities.read_bytes() if authorities else None
    bar = _Bar("archives")
    try:
        verified = verify(
            kernel, archive, authorities=pem, progress=lambda done, total: bar("Vérification", done, total)
        )
        if check_only:
            bar.close()
            click.echo(
                f"Archive {archive.name} vérifiée : signée par {verified.signature.signer_fr}, "
                f"{verified.patients} dossier(s) patient, toutes les empreintes correspondent. Rien n'a été écrit."
            )
            return
        report = import_archive(kernel, archive, authorities=pem, verified=verified, progress=bar)
    except LgoError as exc:
        bar.close()
        for line in refusal_lines_fr(exc, archive)[1:]:
            click.echo(line, err=True)
        raise
    bar.close()
    for line in report.lines_fr():
        click.echo(line)


@click.command(name="indicateurs")
@click.option("--annee", "year", type=int, help="Année (par défaut l'année en cours).")
@click.option(
    "--manques",
    "misses",
    metavar="CODE",
    help="Le détail des cas qui comptent contre cet indicateur (par exemple ordonnance_numerique).",
)
@click.option("--mois", "month", type=click.IntRange(1, 12), help="Avec --manques : un mois de l'année seulement.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire le tableau (ou le détail des manques) dans ce fichier CSV (séparateur « ; », UTF-8).",
)
@french_errors
def indicators_command(year: int | None, misses: str | None, month: int | None, csv_path: Path | None) -> None:
    """Les indicateurs numériques de la rémunération sur objectifs (REMU NUM) : chaque indicateur pour l'année et
    chaque mois, son seuil et son statut ; avec --manques, les cas qui l'empêchent d'être atteint."""
    from datetime import datetime

    from lgo import indicators
    from lgo.local_time import PARIS

    kernel = open_kernel()
    pharmacy_id = current_pharmacy_id(kernel)
    year = year or datetime.now(PARIS).year
    board = kernel.indicators(pharmacy_id)
    if misses is not None:
        if misses not in indicators.BY_CODE:
            known = ", ".join(indicators.BY_CODE)
            raise FrenchError(f"Indicateur inconnu : « {misses} ». Indicateurs : {known}.")
        period = indicators.Period(year, month)
        found = board.misses(misses, period)
        rows = indicators.misses_rows(found)
        if csv_path is not None:
            csv_path.write_bytes(indicators.to_csv(rows))
            click.echo(f"{len(found)} cas écrits dans {csv_path}.")
            return
        click.echo(f"{indicators.BY_CODE[misses].label_fr} — {period.label_fr} : {len(found)} cas.")
        for miss, row in zip(found, rows[1:], strict=True):
            who = f" — {miss.patient_fr}" if miss.patient_fr else ""
            click.echo(f"  {row[0]}  {miss.reference_fr}{who} : {miss.reason_fr}")
        return
    reports = board.report(year)
    if csv_path is not None:
        csv_path.write_bytes(indicators.to_csv(indicators.csv_rows(reports)))
        click.echo(f"Indicateurs {year} écrits dans {csv_path}.")
        return
    for report in reports:
        click.echo(_report_text(report))


def _report_text(report: Any) -> str:
    from lgo.indicators import percent_fr

    threshold = "pas de seuil" if report.threshold is None else f"seuil {percent_fr(report.threshold)}"
    lines = [f"{report.definition.label_fr} ({report.definition.code}) — {threshold}"]
    if report.state != "measured":
        lines.append(f"  {report.state_fr}")
        return "\n".join(lines)
    for measure in [*report.months, report.total]:
        if measure.tally is None:
            lines.append(f"  {measure.period.label_fr:<16} {measure.status_fr}")
            continue
        tally = measure.tally
        lines.append(
            f"  {measure.period.label_fr:<16} {percent_fr(tally.rate):>8}  ({tally.numerator}/{tally.denominator})"
            f"  {measure.status_fr}"
        )
    return "\n".join(lines)
