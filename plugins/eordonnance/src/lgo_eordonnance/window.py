"""The ordonnance numérique at the counter (Pharmagest's « F3 - Ordonnance Numérique »): a key opens the scan field,
the prescription comes back with its lines mapped to the catalogue, one key per line dispensed as prescribed, a short
command for the rest, the control view of the differences, and validation, which bills and queues the two-step
transmission.

Line commands, typed in the window's one field then Entrée: nothing (as prescribed), ``S`` and a CIP13 or a scanned
box (substitution), ``A`` and a quantity (adaptation), ``P`` and a quantity (partial dispensing), ``N`` and a reason
(not dispensed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgo.api import ActionRequired, Choice, CounterShortcut, CounterWindow, ValidationError, gs1

from lgo_eordonnance import service
from lgo_eordonnance.model import Execution

if TYPE_CHECKING:
    from lgo.api import ActionAnswered, CounterCommand, Kernel

TEMPLATES = Path(__file__).parent / "counter_templates"
SCAN, EXECUTE, CONFIRM = "eordonnance.scan", "eordonnance.execute", "eordonnance.confirm_patient"
COMMANDS = {"S": "substitution", "A": "adaptation", "P": "partial", "N": "not_dispensed"}


def windows() -> list[CounterWindow]:
    return [
        CounterWindow(SCAN, "scan.html", TEMPLATES, keys_fr="Scannez le QR code (ou tapez son numéro) puis Entrée"),
        CounterWindow(
            EXECUTE,
            "execute.html",
            TEMPLATES,
            keys_fr="Entrée : comme prescrit ; S + CIP13 ou boîte scannée : substitution ; A + quantité : adaptation ; "
            "P + quantité : partielle ; N + motif : non délivrée",
        ),
    ]


def shortcuts() -> list[CounterShortcut]:
    return [CounterShortcut("F3", "Ordonnance numérique", "eordonnance.scan", needs_patient=True)]


def command(kernel: Kernel, event: CounterCommand) -> list[ActionRequired]:
    if event.patient_id is None:
        raise ValidationError("Sélectionnez d'abord le patient (F2), puis F3 pour son ordonnance numérique.")
    return [
        ActionRequired(
            SCAN,
            service.PLUGIN,
            "Ordonnance numérique : scannez le QR code",
            "Le prescripteur, la date et les lignes sont repris de l'ordonnance.",
            patient_id=event.patient_id,
        )
    ]


def execute_action(kernel: Kernel, pharmacy_id: int, execution_id: int, patient_id: int) -> ActionRequired:
    """The execution window, rebuilt from the database after each decision."""
    with kernel.transaction() as session:
        execution = session.get(Execution, execution_id)
        assert execution is not None and execution.pharmacy_id == pharmacy_id
        lines = [dict(line, kind_fr=service.KINDS.get(line["kind"] or "", "")) for line in execution.lines]
        data: dict[str, Any] = {
            "execution_id": execution_id,
            "identifier": execution.identifier,
            "prescriber": execution.prescription["prescriber_name"],
            "prescribed_on": execution.prescription["prescribed_on"],
            "renewal": execution.renewal_number,
            "lines": lines,
        }
    current = next((line for line in lines if line["kind"] is None), None)
    data["current"] = current["line_id"] if current else None
    if current is None:
        data["differences"] = [
            {"label": d.label, "text_fr": d.text_fr} for d in service.control_view(kernel, pharmacy_id, execution_id)
        ]
    return ActionRequired(
        EXECUTE,
        service.PLUGIN,
        f"Ordonnance numérique {data['identifier']}" + (" — contrôle" if current is None else ""),
        patient_id=patient_id,
        blocking=False,
        data=data,
    )


def _cip13(text: str) -> str:
    text = text.strip()
    scanned = gs1.scanned_cip13(text)
    if scanned is not None:
        return scanned
    if not (text.isdigit() and len(text) == 13):
        raise ValidationError("Substitution : S suivi du CIP13 du produit délivré, ou scannez sa boîte.")
    return text


def _quantity(text: str, what: str) -> int:
    text = text.strip()
    if not text.isdigit() or int(text) <= 0:
        raise ValidationError(f"{what} : indiquez le nombre de boîtes délivrées (par exemple « {what[0]} 1 »).")
    return int(text)


def answered(kernel: Kernel, event: ActionAnswered) -> list[ActionRequired]:
    if event.patient_id is None:
        return []
    if event.kind == SCAN:
        got = service.retrieve(
            kernel, event.pharmacy_id, event.operator_id, event.patient_id, event.values.get("code", "")
        )
        following = execute_action(kernel, event.pharmacy_id, got.execution_id, event.patient_id)
        confirm = [a for a in got.actions if a.kind == CONFIRM]
        if confirm:  # the patient first: the execution opens only once confirmed
            return [
                ActionRequired(
                    CONFIRM,
                    service.PLUGIN,
                    confirm[0].title_fr,
                    confirm[0].message_fr,
                    patient_id=event.patient_id,
                    choices=(Choice("confirm", "C'est bien ce patient"), Choice("cancel", "Abandonner")),
                    data={"execution_id": got.execution_id},
                )
            ]
        return [following]
    if event.kind == CONFIRM:
        if event.choice != "confirm":
            return []
        return [execute_action(kernel, event.pharmacy_id, int(event.data["execution_id"]), event.patient_id)]
    if event.kind != EXECUTE:
        return []
    execution_id = int(event.data["execution_id"])
    if event.choice == "validate":
        result = service.validate_and_bill(kernel, event.pharmacy_id, execution_id, event.operator_id)
        return [
            ActionRequired(
                "eordonnance.billed",
                service.PLUGIN,
                f"Ordonnance numérique facturée : facture n° {result.invoice_number}",
                f"{result.summary_fr()}. Transmission à l'Assurance Maladie en deux temps : les produits délivrés "
                "sont en file d'envoi, le complément de facturation suivra l'accusé du lot de factures.",
                patient_id=event.patient_id,
            ),
            *result.actions,
        ]
    line_id = str(event.data.get("current") or "")
    entry = event.values.get("entry", "").strip()
    if not line_id:
        raise ValidationError("Toutes les lignes sont traitées : Entrée pour valider et facturer.")
    if not entry:
        service.confirm_line(kernel, event.pharmacy_id, execution_id, line_id)
    else:
        letter, _, rest = entry.partition(" ")
        kind = COMMANDS.get(letter.upper())
        if kind is None:
            raise ValidationError(
                f"« {entry[:30]} » : Entrée seule (comme prescrit), ou S, A, P, N suivi d'un espace et de la valeur."
            )
        if kind == "substitution":
            service.decide_line(kernel, event.pharmacy_id, execution_id, line_id, kind, cip13=_cip13(rest))
        elif kind == "not_dispensed":
            service.decide_line(kernel, event.pharmacy_id, execution_id, line_id, kind, reason=rest)
        else:
            service.decide_line(
                kernel, event.pharmacy_id, execution_id, line_id, kind, quantity=_quantity(rest, "Quantité")
            )
    return [execute_action(kernel, event.pharmacy_id, execution_id, event.patient_id)]
