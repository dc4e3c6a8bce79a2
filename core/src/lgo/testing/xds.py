"""Check XDS metadata (an ITI-41 submission, an XDM archive's METADATA.XML) against the ebRIM 3.0 schemas of
``../shared/conformance/cda/xds-schemas`` from tests: ``metadata_errors(xml)`` is empty for a valid
``lcm:SubmitObjectsRequest``. Skipped with a message when the shared material is absent, a failure under ``CI``."""

from __future__ import annotations

from typing import Any

from lgo.testing import _require_or_skip
from lgo.testing.cda import shared_dir

_state: dict[str, Any] = {}


def _schema() -> Any:
    if "schema" not in _state:
        from lxml import etree

        shared = shared_dir()
        folder = shared / "conformance" / "cda" / "xds-schemas" if shared else None
        if folder is None or not (folder / "lcm.xsd").is_file():
            _require_or_skip(
                "Schémas ebRIM absents (../shared/conformance/cda/xds-schemas) : métadonnées non vérifiées."
            )
            raise AssertionError("unreachable")
        _state["schema"] = etree.XMLSchema(etree.parse(str(folder / "lcm.xsd")))
    return _state["schema"]


def metadata_errors(xml: bytes) -> list[str]:
    """What the ebRIM schemas say about ``xml`` (empty when it is valid)."""
    from lxml import etree

    schema = _schema()
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"ebRIM: line {e.line}: {e.message}" for e in schema.error_log]
