from __future__ import annotations

from collections.abc import Iterator

import pytest
from lgo_mssante.testing import checked_xdm_archives
from mss_helpers import mss_authority, mss_org_world, mss_sandbox, mss_world

__all__ = ["checked_xdm_archives", "mss_authority", "mss_org_world", "mss_sandbox", "mss_world"]


@pytest.fixture(autouse=True)
def _every_xdm_archive_is_checked(checked_xdm_archives: list[bytes]) -> Iterator[None]:
    """Each IHE_XDM.ZIP built in these tests is checked against the ebRIM schemas and the XDM media rules."""
    yield
