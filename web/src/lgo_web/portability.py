"""« Portabilité » and « REMU NUM »: the pharmacy's export started from the admin page, and its digital indicators
for the titulaire (issue 24, decisions 1500 and 1502).

The export runs in the background (a thread of the web process, one at a time per pharmacy) into the pharmacy's
own private folder under the data folder; the page lists the archives, the one being written, and the last failure.
Starting it and downloading an archive are traced with the operator's name. Both pages are for the titulaire and
the administrator only: the archive holds every patient's data.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from lgo import indicators
from lgo.config import data_dir, private_dir
from lgo.domain import audit
from lgo.errors import LgoError
from lgo.local_time import PARIS, datetime_fr
from werkzeug.wrappers import Response

from lgo_web.app import kernel_of
from lgo_web.auth import current_user

log = logging.getLogger(__name__)

blueprint = Blueprint("portability", __name__)

ARCHIVE_NAME = re.compile(r"^PA\d{8}T\d{6}\.ZIP$")
AUDIT_DOWNLOADED = "portability.downloaded"

#: Pharmacy id → the export running for it (at most one), and the last failure's French message.
_running: dict[int, threading.Thread] = {}
_failures: dict[int, str] = {}
_lock = threading.Lock()


class StartForm(FlaskForm):
    pass


def _allowed() -> Any:
    user = current_user()
    if not user.can_edit:
        log.warning("operator %s (%s) refused %s", user.code, user.role, request.path)
        abort(403)
    return user


def export_folder(pharmacy_id: int) -> Path:
    """The pharmacy's archives: private, one folder per pharmacy (a group shares a server)."""
    return private_dir(private_dir(data_dir() / "exports") / str(pharmacy_id))


def _archives(folder: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(folder.glob("PA*.ZIP"), reverse=True):
        if ARCHIVE_NAME.match(path.name):
            status = path.stat()
            found.append(
                {
                    "name": path.name,
                    "size_fr": f"{status.st_size / 2**20:.1f} Mo".replace(".", ","),
                    "written_fr": datetime_fr(datetime.fromtimestamp(status.st_mtime, PARIS)),
                }
            )
    return found


def _run_export(app: Any, pharmacy_id: int, operator_id: int, folder: Path) -> None:
    from lgo.portability.exporter import export

    try:
        export(kernel_of(app), pharmacy_id, folder, operator_id=operator_id, actor="web")
    except LgoError as exc:
        _failures[pharmacy_id] = exc.message_fr
        log.warning("export of pharmacy %s failed: %s", pharmacy_id, exc.detail)
    except Exception:
        _failures[pharmacy_id] = "L'export a échoué (erreur technique, voir le journal du serveur)."
        log.exception("export of pharmacy %s failed", pharmacy_id)
    finally:
        with _lock:
            _running.pop(pharmacy_id, None)
            _clear_interrupted(pharmacy_id, folder)


def _clear_interrupted(pharmacy_id: int, folder: Path) -> None:
    """The archives an export stopped mid-way left (the server was stopped during it): removed, and said."""
    from lgo.portability.exporter import remove_interrupted

    removed = remove_interrupted(folder)
    if removed:
        log.warning("pharmacy %s: interrupted export files removed: %s", pharmacy_id, ", ".join(removed))
        _failures[pharmacy_id] = (
            f"un export précédent a été interrompu avant la fin (serveur arrêté pendant l'export ?) ; son archive "
            f"incomplète {', '.join(removed)} a été supprimée. Relancez l'export."
        )


@blueprint.route("/portabilite", methods=["GET", "POST"])
def export_page() -> Any:
    user = _allowed()
    folder = export_folder(user.pharmacy_id)
    form = StartForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash("Formulaire expiré ou invalide : rechargez la page puis recommencez.", "error")
            return redirect(url_for("portability.export_page"))
        with _lock:
            if user.pharmacy_id in _running:
                flash("Un export est déjà en cours : il apparaîtra ici une fois écrit.", "error")
                return redirect(url_for("portability.export_page"))
            _failures.pop(user.pharmacy_id, None)
            worker = threading.Thread(
                target=_run_export,
                args=(current_app._get_current_object(), user.pharmacy_id, user.operator_id, folder),  # type: ignore[attr-defined]
                name=f"lgo-export-{user.pharmacy_id}",
                daemon=True,
            )
            _running[user.pharmacy_id] = worker
            worker.start()
        flash("Export de toute l'officine démarré : l'archive apparaîtra ci-dessous une fois écrite.", "ok")
        return redirect(url_for("portability.export_page"))
    with _lock:
        if user.pharmacy_id not in _running:
            _clear_interrupted(user.pharmacy_id, folder)
    return render_template(
        "portability.html",
        form=form,
        archives=_archives(folder),
        running=user.pharmacy_id in _running,
        failure=_failures.get(user.pharmacy_id),
    )


@blueprint.route("/portabilite/<name>")
def download(name: str) -> Response:
    user = _allowed()
    path = export_folder(user.pharmacy_id) / name
    if not ARCHIVE_NAME.match(name) or not path.is_file():
        abort(404)
    with kernel_of(current_app).transaction() as session:
        audit.record(
            session,
            user.pharmacy_id,
            AUDIT_DOWNLOADED,
            f"Archive de portabilité {name} téléchargée.",
            actor="web",
            operator_id=user.operator_id,
            object_type="pharmacy",
            object_id=user.pharmacy_id,
            details={"archive": name},
        )
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=name)


# --- REMU NUM ---------------------------------------------------------------------------------------------


def _year() -> int:
    text = request.args.get("annee", "")
    if text.isdigit() and 2020 <= int(text) <= 2100:
        return int(text)
    return datetime.now(PARIS).year


@blueprint.route("/remu-num")
def indicators_page() -> Any:
    user = _allowed()
    year = _year()
    reports = kernel_of(current_app).indicators(user.pharmacy_id).report(year)
    return render_template("remu_num.html", reports=reports, year=year, percent=indicators.percent_fr)


@blueprint.route("/remu-num.csv")
def indicators_csv() -> Response:
    user = _allowed()
    year = _year()
    reports = kernel_of(current_app).indicators(user.pharmacy_id).report(year)
    return Response(
        indicators.to_csv(indicators.csv_rows(reports)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="remu-num-{year}.csv"'},
    )


def _misses(code: str) -> tuple[indicators.Period, list[indicators.Miss]]:
    user = _allowed()
    if code not in indicators.BY_CODE:
        abort(404)
    month_text = request.args.get("mois", "")
    month = int(month_text) if month_text.isdigit() and 1 <= int(month_text) <= 12 else None
    period = indicators.Period(_year(), month)
    return period, kernel_of(current_app).indicators(user.pharmacy_id).misses(code, period)


@blueprint.route("/remu-num/<code>")
def misses_page(code: str) -> Any:
    period, misses = _misses(code)
    return render_template(
        "remu_num_misses.html", definition=indicators.BY_CODE[code], period=period, misses=misses, when=datetime_fr
    )


@blueprint.route("/remu-num/<code>/manques.csv")
def misses_csv(code: str) -> Response:
    period, misses = _misses(code)
    name = f"remu-num-{code}-{period.year}" + (f"-{period.month:02d}" if period.month else "")
    return Response(
        indicators.to_csv(indicators.misses_rows(misses)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
