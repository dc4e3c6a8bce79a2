"""Issue 24, point 3 and 4 on the admin page: the export started in the background, downloadable when written,
traced with the operator's name; the REMU NUM page with its months, drill-down and CSV; both for the titulaire and
the administrator only."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lgo.demo_data import FINESS, PASSWORD, Seeded
from lgo.domain.audit import AuditEntry
from lgo.kernel import Kernel
from lgo_sandbox.pki import TestAuthority
from sqlalchemy import select
from web_fakes import post_form, sign_in, text


def _wait_for_archive(client: Any, seconds: float = 120.0) -> str:
    import re

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = text(client.get("/portabilite"))
        found = re.search(r"(PA\d{8}T\d{6}\.ZIP)", page)
        if found and "Export en cours" not in page:
            return found.group(1)
        time.sleep(0.3)
    raise AssertionError("the export did not finish")


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
def test_the_titulaire_exports_in_the_background_and_downloads_the_archive_traced(
    web_kernel: Kernel, web_seeded: Seeded, web_client: Any, lgo_home: Path, tmp_path: Path
) -> None:
    TestAuthority(tmp_path / "autorite").organisation(finess=FINESS).store_for(web_kernel, web_seeded.pharmacy_id)
    sign_in(web_client, "titulaire", PASSWORD)
    page = text(web_client.get("/portabilite"))
    assert "Démarrer l'export" in page and "Aucune archive pour l'instant." in page
    started = post_form(web_client, "/portabilite", "/portabilite", follow_redirects=True)
    assert "Export de toute l'officine démarré" in text(started)
    name = _wait_for_archive(web_client)
    folder = lgo_home / "exports" / str(web_seeded.pharmacy_id)
    assert (folder / name).stat().st_mode & 0o077 == 0  # private to the server's user
    response = web_client.get(f"/portabilite/{name}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert {"README.TXT", "MANIFEST.XML", "SIGN.XML", "TRANSVERSE.ZIP"} <= set(archive.namelist())
    with web_kernel.transaction() as session:
        traced = {
            entry.action: entry.operator_id
            for entry in session.scalars(select(AuditEntry).where(AuditEntry.pharmacy_id == web_seeded.pharmacy_id))
        }
    titulaire = web_seeded.operators["titulaire"]
    assert traced["portability.exported"] == titulaire and traced["portability.downloaded"] == titulaire
    assert web_client.get("/portabilite/..%2F..%2Fsecret.key").status_code == 404
    assert web_client.get("/portabilite/PA20260101T000000.ZIP").status_code == 404


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
def test_without_the_certificate_the_export_fails_in_french(web_client: Any) -> None:
    sign_in(web_client, "admin", PASSWORD)
    post_form(web_client, "/portabilite", "/portabilite")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = text(web_client.get("/portabilite"))
        if "Dernier export en échec" in page:
            break
        time.sleep(0.2)
    assert "Dernier export en échec" in page and "certificat" in page.lower()


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
def test_the_remu_num_page_its_drill_down_and_csv(web_client: Any) -> None:
    sign_in(web_client, "titulaire", PASSWORD)
    page = text(web_client.get("/remu-num?annee=2026"))
    assert "Indicateurs numériques (REMU NUM) — 2026" in page
    assert "Ordonnance numérique (socle)" in page and "Seuil : 70,0 %" in page
    assert "Non mesuré" in page  # the fake plugins measure nothing: said in French
    table = web_client.get("/remu-num.csv?annee=2026")
    assert table.mimetype == "text/csv" and table.get_data(as_text=True).startswith("indicateur;code;periode")
    detail = text(web_client.get("/remu-num/ordonnance_numerique?annee=2026&mois=3"))
    assert "Ordonnance numérique (socle) — mars 2026" in detail
    assert web_client.get("/remu-num/ordonnance_numerique/manques.csv?annee=2026").status_code == 200
    assert web_client.get("/remu-num/inconnu").status_code == 404


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
def test_the_preparatrice_sees_neither_page(web_client: Any) -> None:
    sign_in(web_client, "preparatrice", PASSWORD)
    assert web_client.get("/portabilite").status_code == 403
    assert web_client.get("/remu-num").status_code == 403


@pytest.mark.parametrize("lgo_backend", ["sqlite"], indirect=True)
def test_an_interrupted_exports_partial_archive_is_removed_and_said_in_french(
    web_seeded: Seeded, web_client: Any, lgo_home: Path
) -> None:
    """The server stopped during an export: its ``.partial`` is left. The page removes it and says so; a partial an
    export (of another process) is still writing, its lock held, is left alone."""
    import fcntl

    folder = lgo_home / "exports" / str(web_seeded.pharmacy_id)
    folder.mkdir(parents=True, exist_ok=True)
    interrupted = folder / "PA20260101T090000.ZIP.partial"
    interrupted.write_bytes(b"PK\x03\x04 interrompu")
    writing = folder / "PA20260101T100000.ZIP.partial"
    with writing.open("wb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        sign_in(web_client, "titulaire", PASSWORD)
        page = text(web_client.get("/portabilite"))
        assert "Dernier export en échec" in page
        assert "interrompu avant la fin" in page and "PA20260101T090000.ZIP.partial a été supprimée" in page
        assert not interrupted.exists() and writing.exists()
    assert "Aucune archive pour l'instant." in page  # a partial is never offered for download
    text(web_client.get("/portabilite"))
    assert not writing.exists()  # its writer is gone (lock released): a leftover too
