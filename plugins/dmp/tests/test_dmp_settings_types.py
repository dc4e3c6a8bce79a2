"""The feedable document types written out in the settings module are the kernel's (codes and French names)."""

from __future__ import annotations

from lgo.api import xds_codes
from lgo_dmp.settings import FEEDABLE_TYPES, DmpSettings


def test_feedable_types_are_the_kernels_auto_fed_kinds() -> None:
    assert {code: xds_codes.DOCUMENT_KINDS[code].type_display for code in xds_codes.AUTO_FED_DEFAULT} == FEEDABLE_TYPES
    assert DmpSettings().auto_feed_types == list(xds_codes.AUTO_FED_DEFAULT)
