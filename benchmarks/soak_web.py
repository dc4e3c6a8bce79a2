"""A bounded soak of the web application: ``lgo web`` served as in production (its own process, every installed
module), several operators signed in at once going through its pages again and again. It passes when no request
fails (the expected status, the page's French title, no internal error shown, no traceback in the server's log) and
the server's memory is stable once warm.

    .venv/bin/python benchmarks/soak_web.py                                  # 8 sessions, 10 rounds, PostgreSQL
    .venv/bin/python benchmarks/soak_web.py --sessions 16 --rounds 40 --cycles 5 --backend sqlite

Each session signs in, opens pages at random, chooses the pharmacy's secure-mail provider again now and then (a form
with its CSRF token; read-only roles only look), signs out, and starts again. The work comes in rounds of equal size,
all sessions at once; the server's resident memory is read after each round, and judged from the end of the first
half of the rounds (the warm-up, at the same concurrency as the rest) to the end of the last round.

What the warm-up absorbs, measured here: the server runs a thread per request, each thread takes one of the C
allocator's arenas (up to 8 per core) and a sign-in's scrypt leaves its 16 MB there; with the default allocator a
server's memory climbs by 16 MB steps for some 500 requests (110 → 222 MB), then stays flat, while with
``MALLOC_ARENA_MAX=2`` it is flat from the second round (140 MB). ``--arenas 2`` runs the server so, with a fixed
mmap threshold (1 MiB) so that each scrypt's 16 MB is mapped and given back at once: kept in the arena, they were
sometimes returned at the end of a round and taken again in the next (−16 then +16 MB, seen in CI). The tests do the
same with one arena and a tight margin, to see a leak of Python objects in a short run; deployments may set the same.
The warm memory is the highest of the warm-up rounds.
The tests run a short soak (``tests/test_reliability_web_soak.py``), this script the long one.

The counter's screens (issue 19) join the soak in :data:`COUNTER_PAGES`.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

#: Memory a warm server may still take during the soak (caches filling up, the allocator's own pages).
MEMORY_SLACK_KB = 12 * 1024
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
INTERNAL_ERROR = "Erreur interne"
#: Operators of the demo pharmacy who may change settings (the pharmacist assistant sees the pages read-only).
EDITORS = ("titulaire", "admin")
CODES = ("titulaire", "adjoint", "admin")


@dataclass(frozen=True)
class Page:
    path: str
    #: Words the page must show (its French title), so that an error page answering 200 is caught too.
    expected_fr: str


#: The administrator's pages, seen by every role.
ADMIN_PAGES: tuple[Page, ...] = (
    Page("/modules", "Modules"),
    Page("/fournisseurs", "Fournisseurs"),
    Page("/parametres", "Paramètres"),
    Page("/certificat", "Certificat de l'officine"),
    Page("/exploitation", "Exploitation"),
)
#: The counter's screens (issue 19) opened at random like the others; each pharmacist also bills at the counter once
#: per cycle (:meth:`_Operator.bill`: search, open, a line, validate, the invoice).
COUNTER_PAGES: tuple[Page, ...] = (
    Page("/comptoir/", "Patient"),
    Page("/comptoir/?q=martin-d cam", "MARTIN-DÉMO"),
    Page("/comptoir/recherche?q=14/03/1985", "14/03/1985"),
)
#: The demo pharmacy's operators who bill at the counter in the soak.
BILLERS = ("titulaire", "adjoint")
VERSION = re.compile(r'name="version" value="(\d+)"')
PATIENT = re.compile(r'name="patient_id" value="(\d+)"')
#: Units of the lot the soak sells from (never short: a refusal would be an expected answer, not a soak error).
SOAK_LOT = ("ENDURANCE", 1_000_000)


@dataclass
class SoakResult:
    sessions: int
    rounds: int = 0
    requests: int = 0
    sign_ins: int = 0
    #: Billings validated at the counter (search, open, line, validation, invoice).
    billings: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    #: The server's resident memory (kB) after each round.
    rss_kb: list[int] = field(default_factory=list)
    #: Growth of a warm server still accepted (kB); at least a tenth of its memory.
    slack_kb: int = MEMORY_SLACK_KB

    @property
    def warmup_rounds(self) -> int:
        return max(1, len(self.rss_kb) // 2)

    @property
    def rss_warm_kb(self) -> int:
        # The highest of the warm-up rounds: the allocator sometimes gives a freed 16 MB back to the system at the end
        # of one round and takes it again in the next, which is no growth.
        return max(self.rss_kb[: self.warmup_rounds]) if self.rss_kb else 0

    @property
    def rss_end_kb(self) -> int:
        return self.rss_kb[-1] if self.rss_kb else 0

    @property
    def memory_growth_kb(self) -> int:
        return self.rss_end_kb - self.rss_warm_kb

    @property
    def memory_stable(self) -> bool:
        return self.memory_growth_kb <= max(self.slack_kb, self.rss_warm_kb // 10)

    @property
    def ok(self) -> bool:
        return not self.errors and self.memory_stable

    def summary_fr(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        return (
            f"{self.sessions} sessions, {self.rounds} tours, {self.requests} requêtes en {self.seconds:.1f} s "
            f"({rate:.1f}/s), {self.sign_ins} connexions, {self.billings} facturations au comptoir, "
            f"{len(self.errors)} erreur(s) ; mémoire du serveur "
            f"{self.rss_warm_kb // 1024} Mo une fois chaud, {self.rss_end_kb // 1024} Mo à la fin "
            f"({self.memory_growth_kb / 1024:+.1f} Mo, {'stable' if self.memory_stable else 'EN HAUSSE'})"
        )


# --- the pharmacy and the server ----------------------------------------------------------------------------


def prepare(database_url: str) -> tuple[Page, ...]:
    """Migrate (kernel and every installed module), write the demo pharmacy (operators' password:
    ``lgo.demo_data.PASSWORD``), switch wave 1 on, choose a secure-mail provider; returns the pages to open: the
    administration, each module's settings, the modules' own pages, the counter's."""
    from lgo.demo_data import seed
    from lgo.domain.products import product_by_cip13
    from lgo.domain.stock import receive
    from lgo.kernel import Kernel

    kernel = Kernel(database_url, discover_installed=True)
    try:
        kernel.upgrade_database()
        kernel.start()
        with kernel.transaction() as session:
            seeded = seed(session)
        pharmacy = seeded.pharmacy_id
        for info in kernel.registry.loaded():
            if info.wave == 1:
                kernel.enable(pharmacy, info.name, with_dependencies=True)
        with kernel.transaction() as session:
            product = product_by_cip13(session, pharmacy, seeded.products["serum"])
            receive(session, pharmacy, product, lot_number=SOAK_LOT[0], expiry=date(2099, 1, 1), quantity=SOAK_LOT[1])
        pages = list(ADMIN_PAGES)
        for info in sorted(kernel.registry.loaded(), key=lambda i: i.name):
            if info.manifest is not None and info.manifest.settings is not None:
                pages.append(Page(f"/parametres/{info.name}", info.manifest.label_fr or info.name))
        if "mssante" in kernel.active_plugins(pharmacy):
            kernel.select_provider(pharmacy, "mssante", "organisationnelle")
            pages.append(Page("/plugins/mssante/", "MSSanté"))
    finally:
        kernel.close()
    return (*pages, *COUNTER_PAGES)


@contextlib.contextmanager
def web_server(database_url: str, home: Path, *, arenas: int | None = None) -> Iterator[tuple[str, int, Path]]:
    """``lgo web`` in its own process on a free loopback port: (base URL, pid, its log). ``arenas`` sets the C
    allocator's ``MALLOC_ARENA_MAX`` for that process, and a fixed mmap threshold (1 MiB) so that a sign-in's 16 MB
    of scrypt is mapped and given back at once instead of staying in the arena or not by chance."""
    home.mkdir(parents=True, exist_ok=True)
    out, log = home / "web.out", home / "web.log"
    env = {
        **os.environ,
        "LGO_DATABASE_URL": database_url,
        "LGO_HOME": str(home),
        "LGO_WEB_SECRET_KEY": "soak-" + os.urandom(8).hex(),
    }
    if arenas is not None:
        env["MALLOC_ARENA_MAX"] = str(arenas)
        env["MALLOC_MMAP_THRESHOLD_"] = str(1024 * 1024)
    with out.open("w") as stdout, log.open("w") as stderr:
        # To files, not pipes: the server logs every request, and a pipe nobody reads would stop it once full.
        process = subprocess.Popen(
            [sys.executable, "-m", "lgo.cli", "web", "--port", "0"], stdout=stdout, stderr=stderr, env=env
        )
    try:
        deadline = time.monotonic() + 120
        while (found := re.search(r"http://127\.0\.0\.1:(\d+)/", out.read_text())) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lgo web did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{found.group(1)}", process.pid, log
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- one operator's browser --------------------------------------------------------------------------------------


class _Operator:
    def __init__(self, base_url: str, code: str, password: str, pages: Sequence[Page], seed: int) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=60)
        self.code, self.password, self.pages = code, password, pages
        self.edits = code in EDITORS
        self.rng = random.Random(seed)
        self.requests = 0
        self.sign_ins = 0
        self.billings = 0

    def _get(self, path: str, status: int = 200) -> str:
        self.requests += 1
        return self._checked(self.client.get(path), status, f"GET {path}")

    def _post(self, path: str, data: dict[str, str], status: int = 302) -> str:
        return self._checked(self._posted(path, data), status, f"POST {path}")

    def _posted(self, path: str, data: dict[str, str]) -> httpx.Response:
        self.requests += 1
        return self.client.post(path, data=data)

    def _checked(self, response: httpx.Response, status: int, what: str) -> str:
        page = html.unescape(response.text)
        if response.status_code != status or INTERNAL_ERROR in page or "Traceback" in page:
            raise AssertionError(f"{self.code} {what}: HTTP {response.status_code}, {status} attendu")
        return page

    def cycle(self) -> None:
        """Sign in, open 10 to 25 pages (and send the provider form now and then), sign out."""
        login = self._get("/connexion")
        self._post("/connexion", {"code": self.code, "password": self.password, "csrf_token": _csrf(login)})
        self.sign_ins += 1
        page = ""
        for _ in range(self.rng.randint(10, 25)):
            chosen = self.rng.choice(self.pages)
            page = self._get(chosen.path)
            if chosen.expected_fr not in page:
                raise AssertionError(f"{self.code} GET {chosen.path}: « {chosen.expected_fr} » absent")
            if (
                self.edits
                and chosen.path == "/fournisseurs"
                and "organisationnelle" in page
                and self.rng.random() < 0.5
            ):
                self._post(
                    "/fournisseurs",
                    {"capability": "mssante", "provider": "organisationnelle", "csrf_token": _csrf(page)},
                )
        if self.code in BILLERS:
            page = self.bill()
        self._post("/deconnexion", {"csrf_token": _csrf(page)})

    def bill(self) -> str:
        """One billing at the counter, as a pharmacist does it: find the patient, open a billing, add a line by name,
        validate it once, see the invoice. Returns the invoice's page."""
        home = self._get(self.rng.choice(("/comptoir/?q=martin-d cam", "/comptoir/?q=14/03/1985 cam")))
        patient = PATIENT.search(home)
        if patient is None:
            raise AssertionError(f"{self.code} : la recherche du comptoir n'a pas trouvé la patiente de démonstration")
        opened = self._posted("/comptoir/ouvrir", {"csrf_token": _csrf(home), "patient_id": patient.group(1)})
        self._checked(opened, 302, "POST /comptoir/ouvrir")
        billing = opened.headers["Location"]
        screen = self._get(billing)
        self._post(f"{billing}/lignes", {"csrf_token": _csrf(screen), "version": _version(screen), "entry": "sérum"})
        screen = self._get(billing)
        if "SÉRUM PHYSIOLOGIQUE" not in screen:
            raise AssertionError(f"{self.code} : la ligne ajoutée au comptoir n'apparaît pas")
        self._post(f"{billing}/valider", {"csrf_token": _csrf(screen), "version": _version(screen)})
        invoice = self._get(billing)
        if "validée" not in invoice:
            raise AssertionError(f"{self.code} : la facture validée au comptoir n'apparaît pas")
        self.billings += 1
        return invoice

    def close(self) -> None:
        self.client.close()


def _version(page: str) -> str:
    found = VERSION.search(page)
    if found is None:
        raise AssertionError("no draft version on the counter's page")
    return found.group(1)


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise AssertionError("no CSRF token on the page")
    return found.group(1)


# --- the soak ----------------------------------------------------------------------------------------------------


def soak(
    base_url: str,
    pid: int,
    pages: Sequence[Page],
    *,
    password: str,
    sessions: int = 4,
    rounds: int = 3,
    cycles: int = 2,
    report: Callable[[str], None] = lambda _message: None,
) -> SoakResult:
    """``rounds`` rounds in which each of ``sessions`` operators does ``cycles`` sign-in/browse/sign-out cycles at
    the same time; the server's memory is read after each round (the first half of the rounds is the warm-up)."""
    result = SoakResult(sessions)
    operators = [_Operator(base_url, CODES[i % len(CODES)], password, pages, seed=i) for i in range(sessions)]
    lock = threading.Lock()

    def work(operator: _Operator) -> None:
        for _ in range(cycles):
            try:
                operator.cycle()
            except (AssertionError, httpx.HTTPError) as exc:  # reported; the other operators go on
                with lock:
                    result.errors.append(str(exc) or type(exc).__name__)

    start = time.perf_counter()
    try:
        for round_ in range(1, rounds + 1):
            threads = [threading.Thread(target=work, args=(o,)) for o in operators]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(600)
            result.rss_kb.append(resident_kb(pid))
            result.rounds = round_
            done = sum(o.requests for o in operators)
            report(f"  tour {round_}/{rounds} : {done} requêtes, mémoire du serveur {result.rss_kb[-1] // 1024} Mo")
            if len(result.errors) > 20:
                break
    finally:
        for operator in operators:
            operator.close()
    result.seconds = time.perf_counter() - start
    result.requests = sum(o.requests for o in operators)
    result.sign_ins = sum(o.sign_ins for o in operators)
    result.billings = sum(o.billings for o in operators)
    return result


def run(
    database_url: str,
    home: Path,
    *,
    sessions: int,
    rounds: int,
    cycles: int,
    arenas: int | None = None,
    slack_kb: int = MEMORY_SLACK_KB,
    report: Callable[[str], None] = lambda _message: None,
) -> SoakResult:
    """Prepare the pharmacy, serve it, soak it; a traceback in the server's log counts as an error."""
    from lgo.demo_data import PASSWORD

    pages = prepare(database_url)
    report(f"  {len(pages)} pages, {sessions} sessions, {rounds} tours de {cycles} connexion(s) par session…")
    with web_server(database_url, home, arenas=arenas) as (base_url, pid, log):
        result = soak(
            base_url, pid, pages, password=PASSWORD, sessions=sessions, rounds=rounds, cycles=cycles, report=report
        )
    result.slack_kb = slack_kb
    text = log.read_text()
    if "Traceback" in text:
        result.errors.append("traceback in the server's log: " + text[text.index("Traceback") :][:1500])
    return result


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Endurance de la page web : sessions simultanées, mémoire stable.")
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10, help="tours (la première moitié chauffe le serveur)")
    parser.add_argument("--cycles", type=int, default=3, help="connexions par session et par tour")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--arenas", type=int, help="MALLOC_ARENA_MAX du serveur (par défaut : celui du système)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lgo-endurance-") as tmp:
        home = Path(tmp)
        os.environ["LGO_HOME"] = str(home / "client")
        server = None
        if args.backend == "postgresql":
            from lgo.testing.postgres import PostgresServer

            server = PostgresServer()
            server.start()
            url = server.create_database("endurance")
        else:
            url = f"sqlite:///{home / 'endurance.sqlite'}"
        try:
            say(f"Endurance de la page web ({args.backend})…")
            result = run(
                url, home / "serveur", sessions=args.sessions, rounds=args.rounds, cycles=args.cycles, report=say
            )
        finally:
            if server is not None:
                server.stop()
    say(result.summary_fr())
    for error in result.errors[:20]:
        say(f"  - {error}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
