"""Debian's Chromium driven by Playwright for the screen tests (never ``playwright install``): a headless page, a
checked full-page screenshot, keyboard helpers, and the accessibility check of :mod:`lgo_sandbox.axe`."""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing."""


def chromium() -> str:
    executable = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if executable is None:
        raise BrowserUnavailable("Chromium n'est pas installé (paquet Debian « chromium »)")
    return executable


@contextmanager
def chromium_page(**context_options: Any) -> Iterator[Any]:
    """A page of a headless Chromium in French, 1280×900, trusting the sandboxes' test certificates."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable("Playwright n'est pas installé (extra « testing » de lgo-web)") from exc
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        options = {"ignore_https_errors": True, "locale": "fr-FR", "viewport": {"width": 1280, "height": 900}}
        context = browser.new_context(**{**options, **context_options})
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def screenshots_dir(default: Path) -> Path:
    """``LGO_SCREENSHOTS`` (to look at them after a run), else ``default``."""
    folder = Path(os.environ.get("LGO_SCREENSHOTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Any, folder: Path, name: str, *expected: str) -> Path:
    """Take a full-page PNG and check it: a real image of a sensible size, on a page showing ``expected``."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # first: a failed check leaves its image to look at
    body = page.inner_text("body")
    for text in expected:
        assert text in body, f"{name}: « {text} » absent de la page {page.url} ({path}) :\n{body[:1500]}"
    assert "Traceback" not in body and "Erreur interne" not in body, name
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", name
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 300 and len(data) > 10_000, (name, width, height, len(data))
    return path


def type_where_focused(page: Any, text: str) -> None:
    """Type into the field the page gives the focus to (``autofocus``), once it has it: Chromium applies autofocus
    at a rendering update that may come after the load event, and a key typed before would be lost."""
    page.wait_for_function("document.activeElement !== null && document.activeElement !== document.body")
    page.keyboard.type(text)


def keyboard_fill(page: Any, selector: str, text: str) -> None:
    """Focus a field and type into it, as a person does (its previous content selected and replaced)."""
    page.focus(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def activate(page: Any, role: str, name: str) -> None:
    """Reach a link or a button and press Enter on it (keyboard, not a click)."""
    page.get_by_role(role, name=name, exact=True).first.focus()
    page.keyboard.press("Enter")
