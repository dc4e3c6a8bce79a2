"""Shared pieces of the counter's browser tests: the app served on loopback, a keyboard that counts what a person
types, axe-core on every screen, and the keystroke figures written to the benchmark results."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgo.kernel import Kernel

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "counter_keystrokes.json"

#: What the vendors' guides in ../shared/seeds describe for the same flows (steps a person performs, at least one
#: key or click each), for comparison in the results.
VENDOR_STEPS = {
    "vaccination": {
        "source": "Actipharm (seeds 000): qualification INS (fenêtre), facturation, fenêtre note de vaccination à "
        "vérifier et compléter (voie, site, type d'acte, lot, vaccinateur, date) puis valider",
        "minimum_steps": 12,
    },
    "ordonnance_numerique": {
        "source": "Pharmagest (seeds 002/004): 11 étapes de « Je rentre en facturation » à « Je valide le contrôle »",
        "minimum_steps": 11,
    },
}


@contextmanager
def serving(kernel: Kernel, pharmacy_finess: str | None = None) -> Iterator[str]:
    """The real Flask app on a free loopback port (plain HTTP: the browser is on the same machine); with several
    pharmacies in the database, the one served is named by its FINESS."""
    from lgo_web import create_app
    from werkzeug.serving import make_server

    app = create_app(kernel, secure_cookies=False, pharmacy_finess=pharmacy_finess)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="lgo-counter-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


#: A page's autofocus form control. Form controls only: Chromium does not always give the focus to a link marked
#: ``autofocus`` (the patient file's « Retour »), and a person does not wait for it there.
_AUTOFOCUS = ":is(input, select, textarea, button)[autofocus]"
#: Whether the cursor is still to come: the page has a visible, enabled autofocus control, and nothing has the focus.
#: A function, evaluated once (the page's Content-Security-Policy forbids the eval of an expression that Playwright
#: polls); the wait itself is a selector.
_FOCUS_PENDING = """(selector) => {
  const field = document.querySelector(selector);
  return Boolean(field) && field.offsetParent !== null && !field.disabled && document.activeElement === document.body;
}"""


@dataclass
class Keyboard:
    """Types and presses as a person does, counting keystrokes (a scanner's input is counted apart: it is one
    gesture, the box under the reader)."""

    page: Any
    keys: int = 0
    scans: int = 0
    log: list[str] = field(default_factory=list)

    def _ready(self) -> None:
        """A key pressed before the page's deferred script has run would be lost: wait for the load event (at once
        when the page is already loaded). Chromium may also apply a field's ``autofocus`` after that event, and keys
        typed before it go to the page (seen in CI: "ins jea" searched as "s jea", a scan or an Enter lost): wait for
        the cursor to be somewhere, as a person does."""
        self.page.wait_for_load_state("load")
        if self.page.evaluate(_FOCUS_PENDING, _AUTOFOCUS):
            self.page.wait_for_selector(f"{_AUTOFOCUS}:focus")

    def type(self, text: str) -> None:
        self._ready()
        self.page.keyboard.type(text)
        self.keys += len(text)
        self.log.append(text)

    def press(self, key: str) -> None:
        self._ready()
        self.page.keyboard.press(key)
        self.keys += 1
        self.log.append(f"[{key}]")

    def open_patient(self, base: str, query: str) -> None:
        """From the counter's home page: type the search, Enter on the first patient found, their billing open."""
        self.type(query)
        self.page.wait_for_selector("[data-result]")
        self.press("Enter")
        self.page.wait_for_url(f"{base}/comptoir/f/*")

    def scan(self, payload: str) -> None:
        """A barcode scanner in keyboard mode: the payload (GS separators included), then Enter."""
        self._ready()
        self.page.keyboard.insert_text(payload)
        self.page.keyboard.press("Enter")
        self.scans += 1
        self.log.append("[scan]")


def check_accessibility(page: Any, name: str) -> None:
    """axe-core on the screen as shown: no serious or critical violation."""
    from lgo_sandbox import axe

    script = axe.ensure_installed()
    found = [v for v in axe.violations(page, script) if v["impact"] in ("serious", "critical")]
    assert not found, f"{name}:\n{axe.report(found)}"


def record_keystrokes(flow: str, keyboard: Keyboard, description_fr: str) -> None:
    """Write the flow's figures to benchmarks/results (merged with the other flows')."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    known: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    known[flow] = {
        "description": description_fr,
        "keystrokes": keyboard.keys,
        "scans": keyboard.scans,
        "sequence": " ".join(keyboard.log),
        "vendor": VENDOR_STEPS.get(flow),
    }
    RESULTS.write_text(json.dumps(known, ensure_ascii=False, indent=2) + "\n")
