"""Check CDA documents with the ANS CDA test kit (``../shared/tools/cda_check.py``) from tests.

``cda_errors(document_bytes, volets=("CI-SIS_VAC-NOTE_2023.01.sch",))`` returns the failed assertions of role
error (XSD + the CI-SIS profiles + the volets' schematrons), an empty list for a conforming document. The tool's
own functions are used in-process so that the compiled schematrons are loaded once per test session (the kit
itself is copied and compiled once per machine in ``~/.cache/cda-kit`` by the tool). When the shared conformance
material is absent the test is skipped with a message, and fails when ``CI`` is set.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from lgo.testing import _require_or_skip

_state: dict[str, Any] = {}


def shared_dir() -> Path | None:
    """``/work/shared``-like folder: ``$LGO_CONFORMANCE_DIR/..`` or ``../shared`` from the repository root."""
    configured = os.environ.get("LGO_CONFORMANCE_DIR")
    if configured:
        return Path(configured).resolve().parent
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for parent in start.parents:
            candidate = parent / "shared"
            if (candidate / "tools" / "cda_check.py").is_file() and (candidate / "conformance").is_dir():
                return candidate
    return None


@contextlib.contextmanager
def _kit_lock() -> Iterator[None]:
    """The tool copies the kit and compiles each schematron in place, under fixed names, in a cache shared by every
    process of the machine: test processes running side by side (pytest-xdist, tox) take turns there."""
    cache = Path(os.environ.get("CDA_KIT_CACHE", Path.home() / ".cache" / "cda-kit"))
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lgo-testing.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tool() -> tuple[ModuleType, str]:
    if "tool" not in _state:
        shared = shared_dir()
        kit = shared / "conformance" / "cda" / "testcontenucda-3.0" if shared else None
        if shared is None or kit is None or not kit.is_dir():
            _require_or_skip("Kit CDA de l'ANS absent (../shared/conformance/cda) : vérification CDA non faite.")
            raise AssertionError("unreachable")
        try:
            import saxonche  # noqa: F401
        except ImportError:
            _require_or_skip("saxonche n'est pas installé (extra testing de lgo-core) : vérification CDA non faite.")
        spec = importlib.util.spec_from_file_location("lgo_cda_check_tool", shared / "tools" / "cda_check.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with _kit_lock():
            prepared = module.prepare_kit(str(kit))
            module.repair_missing_vocs(prepared)
        _state["tool"] = (module, prepared)
    tool: tuple[ModuleType, str] = _state["tool"]
    return tool


def cda_errors(document: bytes, volets: Sequence[str] = ()) -> list[str]:
    """Errors the ANS kit reports for ``document`` (empty when it conforms)."""
    from lxml import etree
    from saxonche import PySaxonProcessor

    module, kit = _tool()
    errors: list[str] = []
    if "schema" not in _state:
        _state["schema"] = etree.XMLSchema(etree.parse(os.path.join(kit, "infrastructure/cda/CDA_extended.xsd")))
        _state["processor"] = PySaxonProcessor(license=False)
        _state["executables"] = {}
    schema = _state["schema"]
    if not schema.validate(etree.fromstring(document)):
        errors.extend(f"XSD: line {e.line}: {e.message}" for e in schema.error_log)
    processor = _state["processor"]
    executables: dict[str, Any] = _state["executables"]
    with tempfile.NamedTemporaryFile(suffix=".xml", delete=False) as handle:
        handle.write(document)
        path = handle.name
    try:
        for sch in [*module.PROFILES, *volets]:
            if sch not in executables:
                with _kit_lock():
                    compiled = module.compile_sch(processor, kit, sch)
                executables[sch] = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=compiled)
            svrl = executables[sch].transform_to_string(source_file=path)
            root = etree.fromstring(svrl.encode())
            for failed in root.iterfind(".//svrl:failed-assert", {"svrl": "http://purl.oclc.org/dsdl/svrl"}):
                role = (failed.get("role") or "error").lower()
                if role in ("error", "fatal", ""):
                    errors.append(f"{sch}: {' '.join(' '.join(str(t) for t in failed.itertext()).split())[:300]}")
    finally:
        os.unlink(path)
    return errors
