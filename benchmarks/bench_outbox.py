"""Draining the outbox to the DMP sandbox: documents per second with 1, 2 and 4 ``lgo worker`` processes on
PostgreSQL, against a raw httpx loop posting the same requests (as the workers sent them) to a fresh sandbox.

The workers are real processes started by ``lgo worker``, with every installed plugin, the real ``ins`` plugin vouching
for the identities (qualified INS rows) and the ``dmp`` plugin building, signing (VIHF, submission set) and sending
each document over mutual TLS. The clock starts when the queued documents become due, once every worker is polling,
and stops at the last delivery recorded in the outbox.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from lgo import documents
from lgo.demo_data import nir_with_key, seed
from lgo.documents import cda
from lgo.domain.outbox import OutboxMessage, OutboxStatus
from lgo.domain.patients import create_patient
from lgo.domain.pharmacy import Pharmacy
from lgo.identity import OID_TEST
from lgo.kernel import Kernel
from measure import Result, progress
from sqlalchemy import func, select, update

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class Recorder:
    """WSGI middleware: keeps each request (path, content type, body) on its way to the sandbox."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        import io

        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.requests.append((environ.get("PATH_INFO", ""), environ.get("CONTENT_TYPE", ""), body))
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def _prepare(url: str, workdir: Path, count: int) -> tuple[Kernel, int, Any]:
    """A pharmacy with ``count`` validated documents of qualified patients, queued for the DMP but not due yet."""
    import lgo_ins.model as ins_model
    from lgo_sandbox.pki import TestAuthority

    kernel = Kernel(url, discover_installed=True)
    kernel.upgrade_database()
    kernel.start()
    with kernel.transaction() as session:
        seeded = seed(session)
        finess = session.get(Pharmacy, seeded.pharmacy_id).finess  # type: ignore[union-attr]
    pharmacy, titulaire = seeded.pharmacy_id, seeded.operators["titulaire"]
    for name in ("ins", "dmp"):
        kernel.enable(pharmacy, name)
    authority = TestAuthority(workdir / "pki")
    organisation = authority.organisation("PHARMACIE DES TILLEULS", finess=finess)
    organisation.store_for(kernel, pharmacy)  # the « Certificat » page: the DMP's one rule finds it
    kernel.save_plugin_settings(
        pharmacy,
        "dmp",
        {"endpoint": "https://localhost:9/", "timeout_seconds": 60},  # the sandbox's address once it runs
    )
    patients = max(1, count // 4)
    with kernel.transaction() as session:
        for serial in range(patients):
            patient = create_patient(
                session,
                pharmacy,
                birth_name="BANC-DMP",
                first_names=f"PATIENT {chr(65 + serial % 26)}",
                sex="F",
                birth_date="1985-03-14",
                birth_place_code="99100",
            )
            traits = {
                "birth_name": "BANC-DMP",
                "first_names": ["PATIENT", chr(65 + serial % 26)],
                "sex": "F",
                "birth_date": "1985-03-14",
                "birth_place_code": "99100",
            }
            session.add(
                ins_model.InsIdentity(
                    pharmacy_id=pharmacy,
                    patient_id=patient.id,
                    matricule=nir_with_key(f"2850399{serial:06d}"),
                    oid=OID_TEST,
                    traits=traits,
                    insi_checked=True,
                    document_checked=True,
                    document_kind="CNI",
                )
            )
        patient_ids = [p for (p,) in session.execute(select(ins_model.InsIdentity.patient_id))]
    for i in range(count):
        patient_id = patient_ids[i % len(patient_ids)]
        identity = kernel.shareable_identity(pharmacy, patient_id)
        with kernel.transaction() as session:
            draft = documents.create_draft(
                session,
                pharmacy_id=pharmacy,
                patient_id=patient_id,
                author_operator_id=titulaire,
                type_code="78601-2",
                type_display="CR d'entretien pharmaceutique",
                title=f"Entretien pharmaceutique n° {i + 1}",
                source_plugin="banc",
            )
            header = cda.header_for_document(session, draft, identity)
            documents.set_content(draft, cda.wrap_pdf(header, PDF))
            document_id = draft.id
        documents.validate(kernel, pharmacy, document_id, titulaire)
    return kernel, pharmacy, (authority, organisation)


def _reset(kernel: Kernel, endpoint: str, pharmacy: int) -> None:
    """Every document back to queued and not yet due (a fresh sandbox holds none of them)."""
    from lgo_dmp.model import DmpSubmission, SubmissionStatus

    settings = kernel.plugin_settings(pharmacy, "dmp").model_dump(mode="json")
    kernel.save_plugin_settings(pharmacy, "dmp", {**settings, "endpoint": endpoint})
    with kernel.transaction() as session:
        session.execute(
            update(OutboxMessage).values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=func.now() + timedelta(days=1),
                delivered_at=None,
                lease_until=None,
                locked_by=None,
            )
        )
        session.execute(update(DmpSubmission).values(status=SubmissionStatus.QUEUED, sent_at=None, result=None))


def _drain(kernel: Kernel, workers: int, count: int, env: dict[str, str]) -> float:
    """Start ``workers`` processes, make the documents due once all poll, wait for the last delivery."""
    command = [sys.executable, "-m", "lgo.cli", "worker", "--poll", "0.1", "--backoff", "0", "--lease", "120"]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(workers)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()  # « Worker … démarré »: it polls
            if "démarré" not in line:
                raise RuntimeError(f"lgo worker did not start (exit {process.poll()}): {line!r}")
        with kernel.transaction() as session:
            start = session.scalar(select(func.now()))
            session.execute(update(OutboxMessage).values(next_attempt_at=start))
        deadline = time.monotonic() + 60 + count * 5
        while time.monotonic() < deadline:
            with kernel.reading() as session:
                waiting = session.scalar(select(func.count()).where(OutboxMessage.status != OutboxStatus.DELIVERED))
                if not waiting:
                    end = session.scalar(select(func.max(OutboxMessage.delivered_at)))
                    assert start is not None and end is not None
                    return (end - start).total_seconds()
            time.sleep(0.2)
        raise RuntimeError(f"the outbox was not drained in time ({waiting} message(s) left)")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _raw_loop(requests: list[tuple[str, str, bytes]], base_url: str, organisation: Any) -> float:
    """The same requests posted one after the other with httpx over the same mutual TLS."""
    import httpx

    context = ssl.create_default_context(cafile=str(organisation.ca_path))
    context.load_cert_chain(organisation.cert_path, organisation.key_path)
    start = time.perf_counter()
    for path, content_type, body in requests:
        with httpx.Client(verify=context, timeout=60) as client:  # one connection per document, as the workers
            response = client.post(base_url + path, content=body, headers={"Content-Type": content_type})
        if response.status_code != 200 or b"ResponseStatusType:Success" not in response.content:
            raise RuntimeError(f"the sandbox refused a replayed request: {response.status_code}")
    return time.perf_counter() - start


def bench_outbox_drain(url: str, workdir: Path, *, count: int, workers: tuple[int, ...] = (1, 2, 4)) -> list[Result]:
    from lgo_sandbox.dmp import DmpSandbox
    from lgo_sandbox.pki import server_context
    from lgo_sandbox.tls import BackgroundServer

    progress(f"  file d'envoi vers le DMP : {count} documents préparés (PostgreSQL, modules ins et dmp)…")
    kernel, pharmacy, (authority, organisation) = _prepare(url, workdir, count)
    env = {**os.environ, "LGO_DATABASE_URL": url, "LGO_HOME": os.environ.get("LGO_HOME", str(workdir / "home"))}
    timings: dict[int, float] = {}
    recorded: list[tuple[str, str, bytes]] = []
    try:
        for n in workers:
            sandbox = DmpSandbox(authority.ca_path)
            recorder = Recorder(sandbox)
            with BackgroundServer(recorder, ssl_context=server_context(authority.server("dmp"))) as server:
                _reset(kernel, server.url, pharmacy)
                progress(f"    {n} worker(s)…")
                timings[n] = _drain(kernel, n, count, env)
                if len(sandbox.documents()) != count:
                    raise RuntimeError(f"{len(sandbox.documents())} documents in the DMP, {count} expected")
            if n == workers[0]:
                recorded = recorder.requests
        sandbox = DmpSandbox(authority.ca_path)
        with BackgroundServer(sandbox, ssl_context=server_context(authority.server("dmp"))) as server:
            progress(f"    boucle httpx brute : {len(recorded)} requêtes rejouées…")
            raw = _raw_loop(recorded, server.url, organisation)
    finally:
        kernel.close()
    return [
        Result(
            f"outbox_drain_{n}",
            f"File d'envoi vers le bac à sable DMP, {n} worker(s) : secondes par document / boucle httpx brute des "
            f"mêmes requêtes ({count / timings[n]:.1f} documents/s contre {count / raw:.1f})",
            f"{count} documents, PostgreSQL, {n} processus « lgo worker »",
            timings[n] / count,
            raw / count,
            count,
        )
        for n in workers
    ]
