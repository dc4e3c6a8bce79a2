"""Sandbox DMP: an XDS.b registry/repository over HTTPS with client certificates.

It checks what the real DMP checks as far as the shared material states: the VIHF (signature by a certificate of
the test authority, required attributes, authentification indirecte, patient = the request's patient), the
submission-set signature (IHE DSG manifest), the metadata against the value sets the project uses (classCode,
typeCode, formatCode, healthcareFacilityTypeCode, practiceSettingCode, confidentiality and masking codes), the
patient id (INS with a known OID), size and hash of each document, and optionally the CDA against the ANS kit
(``cda_checker``). It answers ITI-41, ITI-18 (FindDocuments, GetDocuments), ITI-43 and ITI-57 with ebRIM
responses and errors, in French where a pharmacist reads them. It can be slow (``delay``), down (``down``) or
fail a share of requests (``failure_rate``), half of them *after* registering (the answer is lost), which is
what makes client idempotency matter. ``registrations`` counts successful registrations per uniqueId.
"""

from __future__ import annotations

from lgo_sandbox.dmp.server import DmpSandbox, start_dmp_sandbox

__all__ = ["DmpSandbox", "start_dmp_sandbox"]
