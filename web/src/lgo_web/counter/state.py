"""A counter draft's state (JSON in :class:`lgo.domain.drafts.CounterDraft`): prescription header, lines, the
actions waiting for the operator, the result of the validation. Plain dictionaries in and out, so that a page can
be rebuilt from the database alone (second tab, expired session, restarted server)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from lgo.actions import ActionRequired, Choice
from lgo.counter import Billing, DraftLine
from lgo.domain.billing import LineKind, compute_shares


@dataclass
class Header:
    #: "sans": no medical prescription (free sale, or a vaccination the pharmacist prescribes); "papier": one.
    mode: str = "sans"
    prescriber: str = ""
    rpps: str = ""
    date: str = ""
    renewal: int = 0


@dataclass
class Line(DraftLine):
    """A billing line as the counter keeps it, with what the screen shows of its lot."""

    lot_expiry: str | None = None
    #: "scan": read from the box's DataMatrix; "proposé": the lot the stock rule proposes.
    lot_source: str = ""
    serial: str | None = None
    stock_refused: bool = False


@dataclass
class PendingAction:
    id: int
    kind: str
    plugin: str
    title_fr: str
    message_fr: str = ""
    patient_id: int | None = None
    choices: list[list[str]] = field(default_factory=list)
    blocking: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    error_fr: str = ""

    def action(self) -> ActionRequired:
        return ActionRequired(
            kind=self.kind,
            plugin=self.plugin,
            title_fr=self.title_fr,
            message_fr=self.message_fr,
            patient_id=self.patient_id,
            choices=tuple(Choice(value, label) for value, label in self.choices),
            blocking=self.blocking,
            data=self.data,
        )


@dataclass
class State:
    billing_id: str = ""
    header: Header = field(default_factory=Header)
    lines: list[Line] = field(default_factory=list)
    actions: list[PendingAction] = field(default_factory=list)
    next_action_id: int = 1
    #: Products matching a name typed in the line field, to choose from.
    choices: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None

    @classmethod
    def load(cls, raw: dict[str, Any]) -> State:
        return cls(
            billing_id=str(raw.get("billing_id", "")),
            header=Header(**raw.get("header", {})),
            lines=[Line(**{**line, "kind": LineKind(line["kind"])}) for line in raw.get("lines", [])],
            actions=[PendingAction(**a) for a in raw.get("actions", [])],
            next_action_id=int(raw.get("next_action_id", 1)),
            choices=list(raw.get("choices", [])),
            result=raw.get("result"),
        )

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    def add_actions(self, actions: list[ActionRequired] | tuple[ActionRequired, ...]) -> None:
        for action in actions:
            self.actions.append(
                PendingAction(
                    id=self.next_action_id,
                    kind=action.kind,
                    plugin=action.plugin,
                    title_fr=action.title_fr,
                    message_fr=action.message_fr,
                    patient_id=action.patient_id,
                    choices=[[c.value, c.label_fr] for c in action.choices],
                    blocking=action.blocking,
                    data=_json_safe(action.data),
                )
            )
            self.next_action_id += 1

    def pending(self, action_id: int) -> PendingAction | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def rate(self, line: Line, prescribed: bool, pharmacist_prescribes: bool) -> int:
        """The AMO rate that applies: acts always; products only on a prescription, or a vaccine given with an act
        the pharmacist prescribes (bon de prise en charge)."""
        if line.kind == "act" or prescribed or (line.is_vaccine and pharmacist_prescribes):
            return line.reimbursement_rate
        return 0

    def billing(
        self,
        pharmacy_id: int,
        operator_id: int,
        patient_id: int | None,
        prescription_id: int | None,
        draft_id: int,
        pharmacist_prescribes: bool = False,
    ) -> Billing:
        return Billing(
            id=self.billing_id or f"draft-{draft_id}",
            pharmacy_id=pharmacy_id,
            operator_id=operator_id,
            patient_id=patient_id,
            prescription_id=prescription_id,
            lines=[
                DraftLine(
                    **{name: getattr(line, name) for name in _BILLED},
                    reimbursement_rate=self.rate(line, prescription_id is not None, pharmacist_prescribes),
                )
                for line in self.lines
            ],
            draft_id=draft_id,
        )


#: What the kernel bills of a line (the rate is the one that applies to this sale).
_BILLED = tuple(f.name for f in fields(DraftLine) if f.name != "reimbursement_rate")


def _json_safe(value: Any) -> Any:
    """Action data as JSON (the draft is stored as JSON): tuples become lists, other objects their text."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True)
class Totals:
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int


def totals(state: State, complementary_rate: int, with_prescription: bool, pharmacist_prescribes: bool) -> Totals:
    """What the screen shows before validation: the same share rule as the invoice (:func:`compute_shares`)."""
    shares = [
        compute_shares(
            line.quantity * line.unit_price_cents,
            state.rate(line, with_prescription, pharmacist_prescribes),
            complementary_rate,
        )
        for line in state.lines
    ]
    return Totals(
        sum(s.total_cents for s in shares),
        sum(s.amo_cents for s in shares),
        sum(s.amc_cents for s in shares),
        sum(s.patient_cents for s in shares),
    )
