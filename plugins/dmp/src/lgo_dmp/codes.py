"""The DMP codes: the shared XDS code tables of the kernel (:mod:`lgo.documents.xds_codes`)."""

from __future__ import annotations

from lgo.documents.xds_codes import *  # noqa: F403
from lgo.documents.xds_codes import kind as kind
