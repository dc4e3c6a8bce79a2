"""The counter's pages: home (patient search, creation, the operator's open billings), the billing screen of one
draft, and the posts that change it. Every post names the draft's version; errors are shown in French on the same
screen, and nothing is lost (the draft is in the database)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, g, get_flashed_messages, redirect, render_template, request, url_for
from lgo.actions import SELECT_PATIENT, ActionRequired
from lgo.counter import Counter
from lgo.domain import drafts, patient_search
from lgo.domain.billing import Invoice, euros
from lgo.domain.dispensing import Prescription, create_prescription
from lgo.domain.patients import PartialDate, Patient, create_patient
from lgo.domain.pharmacy import Habilitation, Operator, Role
from lgo.domain.scoped import get_scoped, parse_id
from lgo.errors import InsufficientStock, LgoError, NotFound, ValidationError
from lgo.events import ActionAnswered, CounterCommand, CounterView
from lgo.kernel import Kernel
from werkzeug.wrappers import Response

from lgo_web.app import kernel_of
from lgo_web.auth import SignedIn, current_user
from lgo_web.counter import lines as line_entry
from lgo_web.counter.state import State, totals
from lgo_web.counter.windows import Window, render_action

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
#: Patients listed by the search; past that, the pharmacist types one more letter.
SEARCH_RESULTS = 20

blueprint = Blueprint("counter", __name__, url_prefix="/comptoir")

#: The counter's own keys, shown in its key bar (plugins' keys follow). See KERNEL_COUNTER_KEYS.
KERNEL_KEYS = (
    ("F1", "Aide"),
    ("F2", "Patient"),
    ("F4", "Nouveau patient"),
    ("F8", "Ordonnance"),
    ("F9", "Ligne"),
    ("F10", "Valider"),
)


@dataclass(frozen=True)
class CounterPatient:
    """The patient as windows see it (``patient`` in a window's template)."""

    id: int
    display_name: str
    birth_name: str
    first_names: str
    birth_date_fr: str
    sex: str
    complementary_rate: int

    @classmethod
    def of(cls, patient: Patient) -> CounterPatient:
        return cls(
            patient.id,
            patient.display_name,
            patient.birth_name,
            patient.first_names,
            patient.birth_date.display_fr(),
            patient.sex.value,
            patient.complementary_rate,
        )


def _kernel() -> Kernel:
    return kernel_of(current_app)


def _back(draft_id: int) -> Response:
    return redirect(url_for("counter.billing", draft_id=draft_id))


def _version() -> int:
    try:
        return int(request.form.get("version", "") or request.args.get("v", ""))
    except ValueError:
        raise ValidationError("Formulaire incomplet : rechargez la page.") from None


# --- home --------------------------------------------------------------------------------------------------


@blueprint.route("/")
def home() -> Any:
    user = current_user()
    query = request.args.get("q", "")
    kernel = _kernel()
    with kernel.transaction() as session:
        found, search_error = _search(session, user, query)
        waiting = [
            (d.id, _patient_label(session, d.patient_id), d.updated_at.astimezone(PARIS))
            for d in drafts.open_drafts(session, user.pharmacy_id, user.operator_id)
            if d.state.get("lines")
        ]
    return render_template(
        "counter/home.html",
        query=query,
        found=found,
        search_error=search_error,
        waiting=waiting,
        shortcuts=_shortcuts(kernel, user, None),
        statuses=_statuses(kernel, user.pharmacy_id, None),
        today=date.today(),
    )


@blueprint.route("/recherche")
def search_fragment() -> Any:
    """The results list alone, for the instant search (the page works without it)."""
    user = current_user()
    query = request.args.get("q", "")
    with _kernel().transaction() as session:
        found, search_error = _search(session, user, query)
    return render_template("counter/_results.html", found=found, query=query, search_error=search_error)


def _search(session: Any, user: SignedIn, query: str) -> tuple[list[CounterPatient], str]:
    """The kernel's patient search (names by their beginning, birth date, NIR; decision 0013), or what could not be
    searched, in French (a typo is not an error of the counter: the page stays as it is)."""
    if not query.strip():
        return [], ""
    try:
        found = patient_search.search(session, user.pharmacy_id, query, limit=SEARCH_RESULTS)
    except ValidationError as exc:
        log.info("counter search refused: %s", exc.detail)
        return [], exc.message_fr
    return [CounterPatient.of(p) for p in found], ""


def _patient_label(session: Any, patient_id: int | None) -> str:
    if patient_id is None:
        return "Vente sans patient"
    patient = session.get(Patient, patient_id)
    return patient.display_name if patient else "?"


@blueprint.route("/ouvrir", methods=["POST"])
def open_billing() -> Response:
    """Open a billing for a patient found by the search (or none: a sale without a patient)."""
    user = current_user()
    raw = request.form.get("patient_id", "")
    kernel = _kernel()
    try:
        with kernel.transaction() as session:
            patient_id = get_scoped(session, Patient, raw, user.pharmacy_id, "patient").id if raw else None
        draft_id = _new_draft(kernel, user, patient_id, source=request.form.get("source", "nom"))
    except LgoError as exc:
        flash(exc.message_fr, "error")
        return redirect(url_for("counter.home"))
    return _back(draft_id)


def _new_draft(kernel: Kernel, user: SignedIn, patient_id: int | None, source: str = "nom") -> int:
    with kernel.transaction() as session:
        draft = drafts.open_draft(session, user.pharmacy_id, user.operator_id, patient_id)
        draft_id = draft.id
    counter = Counter(kernel, user.pharmacy_id, user.operator_id)
    state = State()
    if patient_id is not None:
        state.add_actions(counter.select_patient(patient_id, source=source))
    billing = counter.start_billing(patient_id=patient_id)
    state.billing_id = billing.id
    state.add_actions(billing.actions)
    with kernel.transaction() as session:
        drafts.save(session, drafts.get_draft(session, user.pharmacy_id, draft_id), 1, state=state.dump())
    return draft_id


@blueprint.route("/patients/nouveau", methods=["GET", "POST"])
def new_patient() -> Any:
    user = current_user()
    kernel = _kernel()
    errors: list[str] = []
    if request.method == "POST":
        form = request.form
        try:
            birth_date = _birth_date(form.get("birth_date", ""))
            with kernel.transaction() as session:
                patient = create_patient(
                    session,
                    user.pharmacy_id,
                    birth_name=form.get("birth_name", ""),
                    first_names=form.get("first_names", ""),
                    used_name=form.get("used_name") or None,
                    used_first_name=form.get("used_first_name") or None,
                    sex=_sex(form.get("sex", "")),
                    birth_date=birth_date,
                    birth_place_code=form.get("birth_place_code") or None,
                    vitale_nir=_nir(form.get("nir", "")),
                )
                kernel.audit(
                    user.pharmacy_id,
                    "patient.created",
                    "Patient créé au comptoir.",
                    session=session,
                    operator_id=user.operator_id,
                    patient_id=patient.id,
                    object_type="patient",
                    object_id=patient.id,
                )
                patient_id = patient.id
            return _back(_new_draft(kernel, user, patient_id))
        except LgoError as exc:
            errors.append(exc.message_fr)
    return render_template(
        "counter/patient_form.html",
        errors=errors,
        form=request.form,
        shortcuts=_shortcuts(kernel, user, None),
        statuses=_statuses(kernel, user.pharmacy_id, None),
    ), (400 if errors else 200)


def _birth_date(text: str) -> PartialDate:
    text = text.strip()
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(text) == 8 and text.isdigit():
        parts = [text[:2], text[2:4], text[4:]]
    if len(parts) == 3 and len(parts[0]) == 2 and len(parts[2]) == 4 and all(p.isdigit() for p in parts):
        try:
            return PartialDate(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValidationError:
            raise ValidationError(
                f"Date de naissance invalide : « {text} » n'existe pas (JJ/MM/AAAA ; 00 si le jour ou le mois est "
                "inconnu)."
            ) from None
    raise ValidationError(f"Date de naissance invalide : « {text[:20]} » (JJ/MM/AAAA ; 00 si le jour est inconnu).")


def _sex(text: str) -> str:
    value = text.strip().upper()[:1]
    if value not in ("M", "F", "I"):
        raise ValidationError("Sexe : choisissez M (masculin), F (féminin) ou I (indéterminé).")
    return value


def _nir(text: str) -> str | None:
    from lgo.identifiers import check_matricule

    text = text.replace(" ", "")
    if not text:
        return None
    return check_matricule(text)


# --- the billing screen -----------------------------------------------------------------------------------


@blueprint.route("/f/<draft_id>")
def billing(draft_id: str) -> Any:
    user = current_user()
    kernel = _kernel()
    with kernel.transaction() as session:
        try:
            draft = drafts.get_draft(session, user.pharmacy_id, draft_id)
        except NotFound as exc:
            flash(exc.message_fr, "error")
            return redirect(url_for("counter.home"))
        state = State.load(draft.state)
        patient_row = session.get(Patient, draft.patient_id) if draft.patient_id else None
        patient = CounterPatient.of(patient_row) if patient_row else None
        prescription = session.get(Prescription, draft.prescription_id) if draft.prescription_id else None
        operator = session.get(Operator, user.operator_id)
        can_force = bool(operator and operator.has(Habilitation.STOCK_FORCE))
        version, status, invoice_id, draft_pk = draft.version, draft.status, draft.invoice_id, draft.id
        invoice = session.get(Invoice, invoice_id) if invoice_id else None
        invoice_number = invoice.number if invoice else None
    view = CounterView(
        user.pharmacy_id,
        user.operator_id,
        patient.id if patient else None,
        str(draft_pk),
        tuple(line.cip13 for line in state.lines if line.cip13),
        tuple(line.act_code for line in state.lines if line.act_code),
    )
    window = None
    if state.actions:
        pending = state.actions[0]
        window = render_action(
            kernel,
            user.pharmacy_id,
            pending.action(),
            answer_url=url_for("counter.answer", draft_id=draft_pk, action_id=pending.id, v=version),
            error_fr=pending.error_fr,
            patient=patient,
            version=version,
        )
    prescribes = _pharmacist_prescribes(kernel, state)
    return render_template(
        "counter/billing.html",
        draft_id=draft_pk,
        version=version,
        closed=status != drafts.DraftStatus.OPEN,
        invoice_number=invoice_number,
        state=state,
        patient=patient,
        prescription=prescription,
        totals=totals(state, patient.complementary_rate if patient else 0, prescription is not None, prescribes),
        pharmacist_prescribes=prescribes,
        euros=euros,
        panels=_panels(kernel, view),
        statuses=_statuses(kernel, user.pharmacy_id, patient.id if patient else None),
        shortcuts=_shortcuts(kernel, user, patient),
        acts=sorted(kernel.acts.values(), key=lambda a: a.code),
        window=window,
        pending=state.actions[0] if state.actions else None,
        can_force=can_force,
        today=date.today(),
    )


def _pharmacist_prescribes(kernel: Kernel, state: State) -> bool:
    return any(
        line.act_code and (act := kernel.acts.get(line.act_code)) is not None and act.pharmacist_prescribes
        for line in state.lines
    )


def _panels(kernel: Kernel, view: CounterView) -> dict[str, list[Any]]:
    placed: dict[str, list[Any]] = {"banner": [], "billing": []}
    try:
        for _plugin, panel in kernel.hooks.counter_panels(view):
            placed[panel.place].append(panel)
    except Exception:  # a panel never stops the counter
        log.exception("counter panels unavailable")
    return placed


def _statuses(kernel: Kernel, pharmacy_id: int, patient_id: int | None) -> list[Any]:
    try:
        return [status for _plugin, status in kernel.hooks.service_status(pharmacy_id, patient_id)]
    except Exception:
        log.exception("service states unavailable")
        return []


def _shortcuts(kernel: Kernel, user: SignedIn, patient: CounterPatient | None) -> list[Any]:
    """The plugins' keys this operator may use here: with a patient when they need one, and only with the
    habilitation a key names (a key that would answer « non habilité » is not shown)."""
    keys = [k for _p, k in kernel.counter_shortcuts(user.pharmacy_id) if patient is not None or not k.needs_patient]
    if any(k.habilitation for k in keys):
        held = _held(kernel, user)
        keys = [k for k in keys if not k.habilitation or k.habilitation in held]
    return keys


def _held(kernel: Kernel, user: SignedIn) -> set[str]:
    """The habilitations the signed-in operator holds now."""
    with kernel.transaction() as session:
        operator = session.get(Operator, user.operator_id)
        return {h.habilitation for h in operator.habilitations} if operator is not None else set()


def _change(draft_id: str) -> tuple[Kernel, SignedIn, int, State, int, int | None, int | None]:
    """The draft to change: (kernel, user, id, state, version posted, patient, prescription)."""
    user = current_user()
    kernel = _kernel()
    version = _version()
    with kernel.transaction() as session:
        draft = drafts.get_draft(session, user.pharmacy_id, draft_id)
        if draft.version != version:
            raise drafts.StaleDraft(
                "Cette facturation a été modifiée entre-temps (autre onglet ou autre poste) : voici son contenu à "
                "jour ; refaites votre dernière saisie si elle n'y figure pas.",
                detail=f"draft {draft.id}: version {version}, now {draft.version}",
            )
        return kernel, user, draft.id, State.load(draft.state), version, draft.patient_id, draft.prescription_id


def _store(kernel: Kernel, user: SignedIn, draft_id: int, version: int, state: State, **changes: Any) -> None:
    with kernel.transaction() as session:
        drafts.save(
            session, drafts.get_draft(session, user.pharmacy_id, draft_id), version, state=state.dump(), **changes
        )


def _fail(draft_id: str, exc: LgoError) -> Response:
    flash(exc.message_fr, "error")
    try:
        return _back(parse_id(draft_id, "facturation"))
    except NotFound:
        return redirect(url_for("counter.home"))


@blueprint.route("/f/<draft_id>/lignes", methods=["POST"])
def add_line(draft_id: str) -> Response:
    try:
        kernel, user, pk, state, version, _patient, _prescription = _change(draft_id)
        text = request.form.get("entry", "")
        chosen = request.form.get("code", "")
        with kernel.transaction() as session:
            if chosen:  # one of the products listed for a name, or one of an act's fees
                quantity = int(request.form.get("quantity", "1") or 1)
                entry = line_entry.resolve(kernel, session, user.pharmacy_id, f"{quantity}*{chosen}", date.today())
            else:
                entry = line_entry.resolve(kernel, session, user.pharmacy_id, text, date.today())
        state.choices = list(entry.choices)
        if entry.line is not None:
            state.lines.append(entry.line)
        _store(kernel, user, pk, version, state)
    except LgoError as exc:
        return _fail(draft_id, exc)
    return _back(pk)


def _index(state: State, index: int) -> int:
    """``index`` of one of the draft's lines, else NotFound: the page was older than the draft (another tab)."""
    if not 0 <= index < len(state.lines):
        raise NotFound("Cette ligne n'existe plus : la page est rechargée.")
    return index


@blueprint.route("/f/<draft_id>/lignes/<int:index>/supprimer", methods=["POST"])
def remove_line(draft_id: str, index: int) -> Response:
    try:
        kernel, user, pk, state, version, _p, _pr = _change(draft_id)
        state.lines.pop(_index(state, index))
        _store(kernel, user, pk, version, state)
    except LgoError as exc:
        return _fail(draft_id, exc)
    return _back(pk)


@blueprint.route("/f/<draft_id>/lignes/<int:index>/forcer", methods=["POST"])
def force_line(draft_id: str, index: int) -> Response:
    """The pharmacist's reasoned override of a stock refusal (habilitation « vente au-delà du stock »)."""
    try:
        kernel, user, pk, state, version, _p, _pr = _change(draft_id)
        line = state.lines[_index(state, index)]
        with kernel.transaction() as session:
            operator = session.get(Operator, user.operator_id)
            if operator is None or not operator.has(Habilitation.STOCK_FORCE):
                raise ValidationError(
                    "Vente au-delà du stock : seul un pharmacien habilité peut la forcer, avec un motif. Appelez-le."
                )
        reason = request.form.get("reason", "").strip()
        if not reason:
            raise ValidationError("Indiquez le motif de la vente au-delà du stock.")
        line.force, line.force_reason, line.stock_refused = True, reason[:200], False
        _store(kernel, user, pk, version, state)
    except LgoError as exc:
        return _fail(draft_id, exc)
    return _back(pk)


@blueprint.route("/f/<draft_id>/entete", methods=["POST"])
def header(draft_id: str) -> Response:
    """The prescription header: prescriber, date, renewal number (the prescription row is created at once)."""
    try:
        kernel, user, pk, state, version, patient_id, _prescription = _change(draft_id)
        if patient_id is None:
            raise ValidationError("Sélectionnez d'abord le patient (F2) : une ordonnance est nominative.")
        form = request.form
        prescribed_on = _prescription_date(form.get("date", ""))
        renewal = int(form.get("renewal", "0") or 0) if (form.get("renewal", "0") or "0").isdigit() else -1
        with kernel.transaction() as session:
            prescription = create_prescription(
                session,
                user.pharmacy_id,
                patient_id,
                prescriber_name=form.get("prescriber", ""),
                prescriber_rpps=form.get("rpps", "").strip() or None,
                prescribed_on=prescribed_on,
                renewal_number=renewal,
            )
            prescription_id = prescription.id
        state.header.mode = "papier"
        state.header.prescriber = form.get("prescriber", "").strip()
        state.header.date = prescribed_on.isoformat()
        state.header.renewal = renewal
        _store(kernel, user, pk, version, state, prescription_id=prescription_id)
    except LgoError as exc:
        return _fail(draft_id, exc)
    return _back(pk)


def _prescription_date(text: str) -> date:
    text = text.strip()
    if not text:
        return date.today()
    try:
        if "/" in text:
            day, month, year = (int(p) for p in text.split("/"))
            return date(year if year > 99 else 2000 + year, month, day)
        if len(text) in (6, 8) and text.isdigit():
            year = int(text[4:]) if len(text) == 8 else 2000 + int(text[4:])
            return date(year, int(text[2:4]), int(text[:2]))
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"Date de prescription invalide : « {text[:20]} » (JJ/MM/AAAA).") from None


@blueprint.route("/f/<draft_id>/valider", methods=["POST"])
def validate(draft_id: str) -> Response:
    try:
        kernel, user, pk, state, version, patient_id, prescription_id = _change(draft_id)
    except drafts.AlreadyValidated as exc:
        flash(exc.message_fr, "info")
        return _back(parse_id(draft_id, "facturation"))
    except LgoError as exc:
        return _fail(draft_id, exc)
    counter = Counter(kernel, user.pharmacy_id, user.operator_id)
    billing = state.billing(
        user.pharmacy_id, user.operator_id, patient_id, prescription_id, pk, _pharmacist_prescribes(kernel, state)
    )
    try:
        result = counter.end_billing(billing)
    except drafts.AlreadyValidated as exc:  # the other tab or the double click was first: nothing billed twice
        flash(exc.message_fr, "info")
        return _back(pk)
    except InsufficientStock as exc:
        for line in state.lines:
            line.stock_refused = bool(line.label and line.label in exc.message_fr)
        _store(kernel, user, pk, version, state)
        flash(
            f"{exc.message_fr} La facturation n'est pas validée. Un pharmacien habilité peut forcer la vente en "
            "indiquant un motif (ligne en rouge).",
            "error",
        )
        return _back(pk)
    except LgoError as exc:
        return _fail(draft_id, exc)
    state.result = {
        "invoice_number": result.invoice_number,
        "summary_fr": result.summary_fr(),
        "dispensations": list(result.dispensation_numbers),
    }
    state.add_actions(result.actions)
    with kernel.transaction() as session:
        draft = drafts.get_draft(session, user.pharmacy_id, pk)
        drafts.save(session, draft, draft.version, state=state.dump(), closed_ok=True)
    flash(result.summary_fr(), "ok")
    return _back(pk)


# --- actions and commands ----------------------------------------------------------------------------------


@blueprint.route("/f/<draft_id>/action/<int:action_id>", methods=["POST"])
def answer(draft_id: str, action_id: int) -> Response:
    user = current_user()
    kernel = _kernel()
    try:  # the draft as it is now: an action is answered whatever version the page showed
        with kernel.transaction() as session:
            draft = drafts.get_draft(session, user.pharmacy_id, draft_id)
            pk, version, patient_id = draft.id, draft.version, draft.patient_id
            state = State.load(draft.state)
    except NotFound as exc:
        return _fail(draft_id, exc)
    pending = state.pending(action_id)
    if pending is None:  # answered already (double submit, another tab): nothing happens twice
        flash("Cette fenêtre a déjà été traitée.", "info")
        return _back(pk)
    choice = request.form.get("choice", "")
    selected: int | None = None
    if choice == "later":
        if pending.blocking:
            pending.error_fr = "Cette question doit être traitée avant de continuer."
        else:
            state.actions.remove(pending)
    else:
        values = {k: v for k, v in request.form.items() if k not in ("csrf_token", "choice", "version")}
        event = ActionAnswered(
            user.pharmacy_id,
            user.operator_id,
            pending.kind,
            pending.plugin,
            pending.patient_id if pending.patient_id is not None else patient_id,
            choice,
            values,
            pending.data,
            state.billing_id or None,
        )
        try:
            follow = kernel.hooks.on_action_answered(event)
        except LgoError as exc:  # the plugin refused the answer: the same window, with its French message
            pending.error_fr = exc.message_fr
        else:
            rest = [a for a in state.actions if a.id != pending.id]
            state.actions = []
            state.add_actions(follow)  # what follows this answer comes first
            state.actions += rest
            selected = _settle_selections(kernel, user, state)
    try:
        _store_any(kernel, user, pk, version, state, selected)
    except LgoError as exc:
        return _fail(draft_id, exc)
    return _back(pk)


def _store_any(
    kernel: Kernel, user: SignedIn, draft_id: int, version: int, state: State, patient_id: int | None
) -> None:
    """Actions are answered on open and on validated drafts alike (the note de vaccination follows the invoice)."""
    with kernel.transaction() as session:
        draft = drafts.get_draft(session, user.pharmacy_id, draft_id)
        drafts.save(session, draft, version, state=state.dump(), closed_ok=True, patient_id=patient_id)


def _settle_selections(kernel: Kernel, user: SignedIn, state: State) -> int | None:
    """Patient selections a plugin asked for (carte Vitale, scanned code): the counter selects the patient, which
    announces :class:`lgo.events.PatientSelected`; the plugins' answers join the pending actions. Returns the patient
    selected, if any."""
    selected = None
    for pending in [a for a in state.actions if a.kind == SELECT_PATIENT]:
        state.actions.remove(pending)
        if pending.patient_id is None:
            continue
        counter = Counter(kernel, user.pharmacy_id, user.operator_id)
        state.add_actions(counter.select_patient(pending.patient_id, source=str(pending.data.get("source", "nom"))))
        selected = pending.patient_id
    return selected


@blueprint.route("/commande/<command>", methods=["POST"])
@blueprint.route("/f/<draft_id>/commande/<command>", methods=["POST"])
def command(command: str, draft_id: str | None = None) -> Response:
    """One of the plugins' keys: the plugin that declared the command answers with its windows."""
    user = current_user()
    kernel = _kernel()
    found = next(((p, k) for p, k in kernel.counter_shortcuts(user.pharmacy_id) if k.command == command), None)
    owner = found[0] if found is not None else None
    if found is not None and found[1].habilitation and found[1].habilitation not in _held(kernel, user):
        flash("Vous n'êtes pas habilité(e) à utiliser cette touche.", "error")
        return redirect(url_for("counter.home") if draft_id is None else url_for("counter.billing", draft_id=draft_id))
    if owner is None:
        flash("Cette touche n'est pas disponible (module inactif ?).", "error")
        return redirect(url_for("counter.home") if draft_id is None else url_for("counter.billing", draft_id=draft_id))
    try:
        if draft_id is None:
            pk = _new_draft(kernel, user, None)
        else:
            with kernel.transaction() as session:
                pk = drafts.get_draft(session, user.pharmacy_id, draft_id).id
        with kernel.transaction() as session:
            draft = drafts.get_draft(session, user.pharmacy_id, pk)
            version, patient_id, state = draft.version, draft.patient_id, State.load(draft.state)
        on_screen = tuple(line.cip13 for line in state.lines if line.cip13)
        actions = kernel.hooks.on_counter_command(
            owner,
            CounterCommand(
                user.pharmacy_id, user.operator_id, command, patient_id, state.billing_id or None, cip13s=on_screen
            ),
        )
        state.add_actions(actions)
        selected = _settle_selections(kernel, user, state)
        _store_any(kernel, user, pk, version, state, selected)
    except LgoError as exc:
        flash(exc.message_fr, "error")
        return redirect(url_for("counter.home") if draft_id is None else url_for("counter.billing", draft_id=draft_id))
    return _back(pk)


# --- what blocks every counter of the pharmacy (recalls, health alerts) -------------------------------------------


@dataclass(frozen=True)
class BlockingWindow:
    """An action of ``lgo_counter_blocking`` as the layout shows it, instead of the page."""

    plugin: str
    key: str
    action: ActionRequired
    window: Window


def _fingerprint(plugin: str, action: ActionRequired) -> str:
    """What recognises the answered action when the plugins are asked again: its kind and ``data["key"]`` (or its
    whole ``data`` without one)."""
    mark = action.data.get("key", action.data)
    text = json.dumps([plugin, action.kind, mark], sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _blocking_actions(kernel: Kernel, pharmacy_id: int) -> list[tuple[str, ActionRequired]]:
    try:
        return kernel.hooks.counter_blocking(pharmacy_id)
    except Exception:  # asking must never break the counter: nothing blocks, the failure is logged
        log.exception("blocking counter actions unavailable")
        return []


@blueprint.app_context_processor
def blocking_windows() -> dict[str, Any]:
    """``counter_blocking()`` for the counter's layout: asked once per page, only by the pages that show it."""

    def counter_blocking() -> list[BlockingWindow]:
        if "counter_blocking" not in g:
            user = g.get("user")
            g.counter_blocking = [] if user is None else _blocking_windows(_kernel(), user.pharmacy_id)
        found: list[BlockingWindow] = g.counter_blocking
        return found

    return {"counter_blocking": counter_blocking}


def _blocking_windows(kernel: Kernel, pharmacy_id: int) -> list[BlockingWindow]:
    back = _local(request.full_path if request.method == "GET" else request.referrer or "")
    windows = []
    for plugin, action in _blocking_actions(kernel, pharmacy_id):
        key = _fingerprint(plugin, action)
        url = url_for("counter.answer_blocking", plugin=plugin, key=key, next=back)
        error = " ".join(str(m) for m in get_flashed_messages(category_filter=[f"blocking-{key}"]))
        html = render_action(kernel, pharmacy_id, action, answer_url=url, error_fr=error, patient=None)
        windows.append(BlockingWindow(plugin, key, action, html))
    return windows


def _local(target: str) -> str:
    """The page to come back to, on this site only (a plugin's counter page too): the path of ``target``, whatever
    host it names, else the counter's home."""
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return url_for("counter.home")


@blueprint.before_request
def refuse_posts_while_blocked() -> Response | None:
    """Nothing is billed or changed at a blocked counter: every post but the blocking window's answer waits."""
    if request.method != "POST" or request.endpoint == "counter.answer_blocking" or g.get("user") is None:
        return None
    if not _blocking_actions(_kernel(), g.user.pharmacy_id):
        return None
    flash(
        "Le comptoir est bloqué : lisez d'abord le message affiché et accusez-en lecture. Rien n'a été modifié.",
        "error",
    )
    return redirect(_local(request.referrer or ""))


@blueprint.route("/bloquant/<plugin>/<key>", methods=["POST"])
def answer_blocking(plugin: str, key: str) -> Response:
    """The answer to a blocking window: given to its plugin if the action still blocks (another counter may have
    answered it first: then there is nothing to do)."""
    user = current_user()
    kernel = _kernel()
    back = _local(request.args.get("next", ""))
    found = next(
        (a for p, a in _blocking_actions(kernel, user.pharmacy_id) if p == plugin and _fingerprint(p, a) == key), None
    )
    if found is None:
        flash("Ce message a déjà été traité (sur ce poste ou un autre).", "info")
        return redirect(back)
    values = {k: v for k, v in request.form.items() if k not in ("csrf_token", "choice")}
    event = ActionAnswered(
        user.pharmacy_id,
        user.operator_id,
        found.kind,
        plugin,
        found.patient_id,
        request.form.get("choice", ""),
        values,
        found.data,
        None,
    )
    try:
        follow = kernel.hooks.on_action_answered(event)
    except LgoError as exc:  # refused (no habilitation...): the same window, with the French message
        flash(exc.message_fr, f"blocking-{key}")  # shown in the window, not above the page
        return redirect(back)
    if follow:
        log.warning("plugin %s returned %d action(s) after a blocking window: not shown", plugin, len(follow))
    flash(
        f"« {found.title_fr} » : réponse enregistrée, les comptoirs de l'officine ne sont plus bloqués par ce message.",
        "ok",
    )
    return redirect(back)


def install(app: Any) -> None:
    """Every role may post on the counter (the préparateur bills), unlike the admin pages. The views are marked
    ``lgo_counter`` (not ``lgo_any_role``: a temporary password must still be replaced before working here). Pages
    of plugins that extend ``counter/layout.html`` get the status bar, the keys and the patient's banner from the
    template helpers ``counter_statuses``, ``counter_shortcuts`` and ``counter_patient``."""
    for name, view in list(app.view_functions.items()):
        if name.startswith("counter."):
            view.lgo_counter = True

    @app.context_processor
    def counter_helpers() -> dict[str, Any]:
        return {
            "counter_statuses": _template_statuses,
            "counter_shortcuts": _template_shortcuts,
            "counter_patient": _template_patient,
        }


def _template_statuses(patient_id: int | None) -> list[Any]:
    user = current_user()
    return _statuses(_kernel(), user.pharmacy_id, patient_id)


def _template_shortcuts(patient_id: int | None) -> list[Any]:
    user = current_user()
    return _shortcuts(_kernel(), user, _template_patient(patient_id) if patient_id else None)


def _template_patient(patient_id: int | str | None) -> CounterPatient | None:
    """The banner of a plugin's page: the patient, read within the signed-in operator's pharmacy only."""
    if patient_id in (None, ""):
        return None
    user = current_user()
    with _kernel().transaction() as session:
        try:
            return CounterPatient.of(get_scoped(session, Patient, str(patient_id), user.pharmacy_id, "patient"))
        except LgoError:
            return None


ROLE_HOME = {Role.ADMINISTRATEUR: "admin.modules"}
