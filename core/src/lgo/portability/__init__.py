"""Data portability: a whole pharmacy (or one patient) exported to a PDLGC-shaped archive, and imported back.

The archive follows the ANS implementation guide for physicians' software (``ans.fhir.fr.pdlgc``), adapted to a
pharmacy (decision 1500): ``PAAAAMMJJThhmmss.ZIP`` holding ``README.TXT``, ``MANIFEST.XML`` (each inner archive with
its id, type, patient identifier, size and SHA-256), ``SIGN.XML`` (an XAdES signature with the pharmacy's
certificate), ``DOCUMENTATION/`` (generated from the models), ``TRANSVERSE.ZIP`` and one IHE XDM archive
``PATNNNNN.ZIP`` per patient.

Which rows go where comes from the tables the kernel and the plugins declare (:mod:`lgo.portability.tables`, hook
``lgo_portable_tables``): the kernel never names a plugin, and a plugin's rows travel with the patient they belong
to. Modules:

* :mod:`~lgo.portability.tables` — the declarations, the catalogue, which rows belong to which patient;
* :mod:`~lgo.portability.values` — column values to JSON and back;
* :mod:`~lgo.portability.zipstream` — a zip writer whose memory does not grow with the number of entries;
* :mod:`~lgo.portability.safezip` — reading an archive that came from outside, with limits;
* :mod:`~lgo.portability.exporter` — ``lgo export``; :mod:`~lgo.portability.importer` — ``lgo import``;
* :mod:`~lgo.portability.verify` — everything checked before a single row is written.
"""

from __future__ import annotations

#: Version of the archive layout this LGO writes and reads (MANIFEST.XML ``formatVersion``).
FORMAT_VERSION = "1"
