"""TROD (angine, cystite, grippe, COVID-19) at the pharmacy: eligibility, device, result, protocol antibiotic,
BIO-TROD attestation and eDISP-MED dispensation for the DMP, MSSanté fallback to the médecin traitant."""

from __future__ import annotations
