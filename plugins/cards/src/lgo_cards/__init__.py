"""Plugin ``cards``: the professional's CPS (PKCS#11), the carte Vitale (PC/SC) and the Appli carte Vitale."""

from __future__ import annotations
