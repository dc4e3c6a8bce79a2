"""Mon bilan prévention: the interview per age band, the plan personnalisé de prévention (PPP) for the DMP and the
médecin traitant, the RDP act once per age band."""

from __future__ import annotations
