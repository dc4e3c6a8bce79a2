"""The Dossier Pharmaceutique sandbox: one DP service for several pharmacies, over HTTPS with client certificates.

It keeps what the public facts of the DP say (decision 1100): a patient's DP is reached by the qualified INS and
its traits; it holds the dispensations of every pharmacy (the FINESS in the OU of the client certificate, the name in
its O) with their lots; a pharmacist sees the last 12 months, masked and replaced lines left out; a refusal (valid ten
years) or a closing stops the recording; recalls (DP-Rappels) and alerts (DP-Alertes) are published to every
pharmacy, which fetches them after a cursor and acknowledges them. Writes are idempotent by ``Idempotency-Key`` (per
pharmacy) and by line reference. It refuses a request without a client certificate, an INS that is not one (key,
OID), traits that differ from the DP's, a malformed line (CIP13, quantity, date in the future).

Faults for the tests: ``down`` (503), ``delay_seconds``, and ``lose_answers`` (the next N writes are recorded, then
answered 503 — a lost answer, the client retries).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from lgo.api import OID_DEMO, OID_NIA, OID_NIR, OID_TEST, ValidationError, identifiers

PARIS = ZoneInfo("Europe/Paris")
INS_OIDS = {OID_NIR, OID_NIA, OID_TEST, OID_DEMO}
HISTORY_MONTHS = 12
MAX_BODY = 2_000_000


class Refused(Exception):
    def __init__(self, status: int, code: str, message_fr: str) -> None:
        super().__init__(message_fr)
        self.status, self.code, self.message_fr = status, code, message_fr


@dataclass
class Line:
    reference: str
    finess: str
    pharmacy: str
    dispensed_on: date
    cip13: str
    label: str
    quantity: int
    lot: str | None
    masked: bool = False
    replaced_by: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def public(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "date": self.dispensed_on.isoformat(),
            "cip13": self.cip13,
            "libelle": self.label,
            "quantite": self.quantity,
            "lot": self.lot,
            "officine": {"finess": self.finess, "nom": self.pharmacy},
        }


@dataclass
class File:
    traits: dict[str, Any]
    state: str = "absent"
    created_on: date | None = None
    refused_on: date | None = None
    closed_on: date | None = None
    lines: list[Line] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        day = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "etat": self.state,
            "cree_le": day(self.created_on),
            "refuse_le": day(self.refused_on),
            "ferme_le": day(self.closed_on),
        }


@dataclass
class DpSandbox:
    delay_seconds: float = 0.0
    down: bool = False
    lose_answers: int = 0
    #: Today in France (the DP's calendar: a dispensation at 00:30 in Paris is not "in the future" in UTC).
    today: Callable[[], date] = field(default_factory=lambda: lambda: datetime.now(PARIS).date())

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.files: dict[str, File] = {}
        self.bulletins: list[dict[str, Any]] = []
        self.acknowledgements: dict[str, list[dict[str, Any]]] = {}
        #: Every access: (FINESS, operation, professional name or "", INS key).
        self.accesses: list[tuple[str, str, str, str]] = []
        self._answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}

    # -- for tests and the demo ---------------------------------------------------------------------------------------

    def publish(
        self,
        kind: str,
        title: str,
        message: str,
        *,
        issuer: str = "ANSM",
        products: Iterable[dict[str, Any]] = (),
    ) -> str:
        """An authority publishes a recall (``rappel``) or an alert (``alerte``) to every pharmacy; returns its id."""
        with self._lock:
            bulletin_id = str(len(self.bulletins) + 1)
            self.bulletins.append(
                {
                    "id": bulletin_id,
                    "type": kind,
                    "titre": title,
                    "message": message,
                    "emetteur": issuer,
                    "publie_le": datetime.now(UTC).isoformat(),
                    "produits": [dict(p) for p in products],
                }
            )
            return bulletin_id

    def lines_of(self, matricule: str, oid: str) -> list[Line]:
        with self._lock:
            file = self.files.get(f"{oid}:{matricule}")
            return copy.deepcopy(file.lines) if file else []

    def file_of(self, matricule: str, oid: str) -> File | None:
        with self._lock:
            file = self.files.get(f"{oid}:{matricule}")
            return copy.deepcopy(file) if file else None

    # -- WSGI ---------------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(min(length, MAX_BODY + 1)) if length else b""
        if self.down:
            return _reply(start_response, 503, {"code": "indisponible", "message_fr": "Service DP indisponible."})
        try:
            finess, pharmacy = _pharmacy(environ.get("lgo.peer_certificate"))
            if environ.get("REQUEST_METHOD") != "POST":
                raise Refused(405, "requete", "Méthode non prise en charge.")
            if length > MAX_BODY:
                raise Refused(413, "requete", "Requête trop volumineuse.")
            try:
                body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise Refused(400, "requete", "Requête illisible (JSON attendu).") from exc
            if not isinstance(body, dict):
                raise Refused(400, "requete", "Requête illisible (objet JSON attendu).")
            path = environ.get("PATH_INFO", "")
            key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
            with self._lock:
                if key and (finess, key) in self._answers:
                    status, payload = self._answers[(finess, key)]
                else:
                    status, payload = self._route(path, body, finess, pharmacy)
                    if key:
                        self._answers[(finess, key)] = (status, payload)
                    if key and self.lose_answers > 0:
                        self.lose_answers -= 1
                        return _reply(start_response, 503, {"code": "indisponible", "message_fr": "Réponse perdue."})
        except Refused as refused:
            return _reply(start_response, refused.status, {"code": refused.code, "message_fr": refused.message_fr})
        return _reply(start_response, status, payload)

    def _route(self, path: str, body: dict[str, Any], finess: str, pharmacy: str) -> tuple[int, dict[str, Any]]:
        if path == "/v1/bulletins":
            return 200, self._list_bulletins(body.get("apres"))
        if path == "/v1/bulletins/accuse":
            return 200, self._acknowledge(body, finess)
        routes = {
            "/v1/dossier/etat": self._state,
            "/v1/dossier/creation": self._create,
            "/v1/dossier/refus": self._refuse,
            "/v1/dossier/fermeture": self._close,
            "/v1/dispensations": self._feed,
            "/v1/dispensations/masquage": self._mask,
            "/v1/historique": self._history,
        }
        handler = routes.get(path)
        if handler is None:
            raise Refused(404, "requete", "Adresse inconnue du service DP.")
        key, traits = _patient(body.get("patient"))
        professional = _professional(body.get("professionnel"), required=path != "/v1/dispensations")
        self.accesses.append((finess, path.rsplit("/", 1)[-1], professional, key))
        file = self.files.get(key)
        if file is not None and any(file.traits[t] != traits[t] for t in ("birth_date", "sex", "birth_name")):
            raise Refused(409, "traits", "Les traits d'identité ne correspondent pas à ceux du DP de ce patient.")
        return handler(key, traits, file, body, finess, pharmacy)

    # -- the patient's file -------------------------------------------------------------------------------------------

    def _state(self, key: str, traits: dict[str, Any], file: File | None, *_: Any) -> tuple[int, dict[str, Any]]:
        return 200, (file or File(traits)).public()

    def _create(self, key: str, traits: dict[str, Any], file: File | None, *_: Any) -> tuple[int, dict[str, Any]]:
        file = self.files.setdefault(key, File(traits))
        if file.state != "actif":
            file.state, file.created_on = "actif", self.today()
            file.refused_on = file.closed_on = None
        return 201, file.public()

    def _refuse(
        self, key: str, traits: dict[str, Any], file: File | None, body: dict[str, Any], *_: Any
    ) -> tuple[int, dict[str, Any]]:
        if file is not None and file.state == "actif":
            raise Refused(409, "requete", "Ce patient a un DP ouvert : il peut le fermer, pas refuser sa création.")
        file = self.files.setdefault(key, File(traits))
        file.state, file.refused_on = "refus", _day(body.get("date"), self.today())
        return 200, file.public()

    def _close(self, key: str, traits: dict[str, Any], file: File | None, *_: Any) -> tuple[int, dict[str, Any]]:
        if file is None or file.state not in ("actif", "ferme"):
            raise Refused(404, "dossier_absent", "Ce patient n'a pas de DP ouvert.")
        if file.state == "actif":
            file.state, file.closed_on = "ferme", self.today()
        return 200, file.public()

    # -- lines --------------------------------------------------------------------------------------------------------

    def _open(self, file: File | None) -> File:
        if file is None or file.state == "absent":
            raise Refused(404, "dossier_absent", "Ce patient n'a pas de Dossier Pharmaceutique.")
        if file.state == "refus":
            raise Refused(409, "refus", "Le patient a refusé le Dossier Pharmaceutique.")
        if file.state == "ferme":
            raise Refused(409, "ferme", "Le Dossier Pharmaceutique de ce patient est fermé.")
        return file

    def _feed(
        self, key: str, traits: dict[str, Any], file: File | None, body: dict[str, Any], finess: str, pharmacy: str
    ) -> tuple[int, dict[str, Any]]:
        file = self._open(file)
        lines = body.get("lignes")
        if not isinstance(lines, list) or not lines or len(lines) > 500:
            raise Refused(400, "requete", "Lignes de dispensation absentes ou trop nombreuses.")
        checked = [_line(item, self.today()) for item in lines]
        known = {(line.finess, line.reference): line for line in file.lines}
        recorded = 0
        for item, replaces in checked:
            if (finess, item["reference"]) in known:
                continue  # already recorded: a retry
            if replaces is not None:
                old = known.get((finess, replaces))
                if old is None:
                    raise Refused(409, "requete", f"Ligne corrigée inconnue du DP : {replaces}.")
                old.replaced_by = item["reference"]
            line = Line(finess=finess, pharmacy=pharmacy, **item)
            file.lines.append(line)
            known[(finess, line.reference)] = line
            recorded += 1
        return 201, {"enregistrees": recorded}

    def _mask(
        self, key: str, traits: dict[str, Any], file: File | None, body: dict[str, Any], *_: Any
    ) -> tuple[int, dict[str, Any]]:
        file = self._open(file)
        references = body.get("references")
        if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
            raise Refused(400, "requete", "Références de lignes attendues.")
        masked = 0
        for line in file.lines:
            if line.reference in references and not line.masked:
                line.masked = True
                masked += 1
        return 200, {"masquees": masked}

    def _history(
        self, key: str, traits: dict[str, Any], file: File | None, body: dict[str, Any], *_: Any
    ) -> tuple[int, dict[str, Any]]:
        file = self._open(file)
        today = self.today()
        floor = _months_before(today, HISTORY_MONTHS)
        since = max(_day(body.get("depuis"), floor), floor)
        lines = [
            line.public()
            for line in file.lines
            if not line.masked and line.replaced_by is None and line.quantity > 0 and line.dispensed_on >= since
        ]
        return 200, {"lignes": lines}

    # -- bulletins ----------------------------------------------------------------------------------------------------

    def _list_bulletins(self, after: Any) -> dict[str, Any]:
        start = int(after) if isinstance(after, str) and after.isdigit() else 0
        items = self.bulletins[start:]
        return {"bulletins": copy.deepcopy(items), "curseur": str(len(self.bulletins))}

    def _acknowledge(self, body: dict[str, Any], finess: str) -> dict[str, Any]:
        bulletin = body.get("bulletin")
        if not any(b["id"] == bulletin for b in self.bulletins):
            raise Refused(404, "requete", "Bulletin inconnu.")
        professional = _professional(body.get("professionnel"), required=True)
        self.acknowledgements.setdefault(str(bulletin), []).append(
            {"finess": finess, "professionnel": professional, "le": body.get("le")}
        )
        return {"ok": True}


# -- checks ----------------------------------------------------------------------------------------------------------


def _pharmacy(der: bytes | None) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    if not der:
        raise Refused(403, "interdit", "Certificat de l'officine absent.")
    subject = x509.load_der_x509_certificate(der).subject
    units = subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    names = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    finess = str(units[0].value) if units else ""
    if not (len(finess) == 9 and finess.isdigit()):
        raise Refused(403, "interdit", "Le certificat ne désigne pas une officine (FINESS).")
    return finess, str(names[0].value) if names else finess


def _patient(value: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise Refused(400, "requete", "Patient absent de la requête.")
    oid, matricule = value.get("oid"), value.get("matricule")
    if oid not in INS_OIDS:
        raise Refused(400, "requete", "Le DP n'accepte qu'une INS (matricule NIR ou NIA).")
    try:
        identifiers.check_matricule(matricule)
    except ValidationError as exc:
        raise Refused(400, "requete", exc.message_fr) from exc
    traits = {name: value.get(name) for name in ("birth_name", "first_names", "sex", "birth_date")}
    if not isinstance(traits["birth_name"], str) or traits["sex"] not in ("M", "F", "I"):
        raise Refused(400, "requete", "Traits d'identité INS incomplets.")
    if not isinstance(traits["birth_date"], str) or len(traits["birth_date"]) != 10:
        raise Refused(400, "requete", "Date de naissance INS invalide.")
    return f"{oid}:{matricule}", traits


def _professional(value: Any, *, required: bool) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"].strip():
        if required:
            raise Refused(400, "requete", "Le professionnel qui accède au DP doit être nommé.")
        return ""
    return str(value["name"])[:200]


def _day(value: Any, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise Refused(400, "requete", f"Date invalide : {str(value)[:20]}.") from exc


def _line(item: Any, today: date) -> tuple[dict[str, Any], str | None]:
    if not isinstance(item, dict):
        raise Refused(400, "requete", "Ligne de dispensation illisible.")
    reference, label, lot = item.get("reference"), item.get("libelle"), item.get("lot")
    if not isinstance(reference, str) or not 0 < len(reference) <= 80:
        raise Refused(400, "requete", "Référence de ligne invalide.")
    try:
        identifiers.check_cip13(item.get("cip13"))
    except ValidationError as exc:
        raise Refused(400, "requete", exc.message_fr) from exc
    replaces = item.get("remplace")
    quantity = item.get("quantite")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not (0 if replaces else 1) <= quantity <= 10_000:
        raise Refused(400, "requete", "Quantité délivrée invalide.")
    dispensed_on = _day(item.get("date"), today)
    if dispensed_on > today:
        raise Refused(400, "requete", "Date de dispensation dans le futur.")
    if lot is not None and (not isinstance(lot, str) or len(lot) > 40):
        raise Refused(400, "requete", "Numéro de lot invalide.")
    line = {
        "reference": reference,
        "dispensed_on": dispensed_on,
        "cip13": item["cip13"],
        "label": str(label or "")[:300],
        "quantity": quantity,
        "lot": lot or None,
    }
    return line, replaces if isinstance(replaces, str) and replaces else None


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _reply(start_response: Callable[..., Any], status: int, payload: dict[str, Any]) -> list[bytes]:
    data = json.dumps(payload, ensure_ascii=False).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]
