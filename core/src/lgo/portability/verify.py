"""What ``lgo import`` checks before it writes a single row.

1. The archive is a readable zip whose entries are all expected (README, manifest, signature, documentation, the
   transverse archive and the patient archives the manifest lists: nothing more, nothing missing), with safe names.
2. ``SIGN.XML`` is a valid XAdES signature by a certificate of the exported pharmacy, issued by the IGC-Santé, and
   its digests are those of ``MANIFEST.XML`` and ``TRANSVERSE.ZIP`` (:mod:`lgo.portability.signature`).
3. Every archive has the size and SHA-256 the manifest gives it, and its own entries have safe names, declared
   sizes within the limits and a plausible compression ratio.
4. This server can take it: every table of the archive exists here (its module is installed and migrated), and the
   pharmacy is not already in the database.

The rows themselves are read and checked during the import, in one transaction that is rolled back at the first
problem (:mod:`lgo.portability.importer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lgo.portability import manifest as manifest_module
from lgo.portability import signature
from lgo.portability.manifest import Manifest
from lgo.portability.safezip import ArchiveRefused, SafeZip
from lgo.portability.signature import SignatureCheck

if TYPE_CHECKING:
    from lgo.kernel import Kernel
    from lgo.portability.tables import Catalogue

#: Limits of what an archive may hold (a large pharmacy's export is far below them).
MAX_ARCHIVES = 200_000
MAX_PATIENT_ARCHIVE = 1024 * 1024 * 1024
MAX_TRANSVERSE_ARCHIVE = 64 * 1024 * 1024 * 1024
MAX_INNER_ENTRY = 512 * 1024 * 1024
MAX_INNER_ENTRIES = 200_000
MAX_MANIFEST = 256 * 1024 * 1024
MAX_SMALL_FILE = 16 * 1024 * 1024
REQUIRED_PATIENT_FILES = ("README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML")

Progress = Callable[[int, int], None]


@dataclass
class VerifiedArchive:
    path: Path
    manifest: Manifest
    signature: SignatureCheck

    @property
    def patients(self) -> int:
        return sum(1 for entry in self.manifest.archives if entry.kind == "Patient")


def open_outer(path: Path) -> SafeZip:
    return SafeZip(path, what_fr="l'archive", max_entries=MAX_ARCHIVES + 100, max_entry_bytes=MAX_TRANSVERSE_ARCHIVE)


def open_inner(outer: SafeZip, name: str) -> tuple[SafeZip, str]:
    """An inner archive, copied out of the outer one (spooled), with the SHA-256 of its bytes."""
    spooled, digest = outer.spool(name)
    inner = SafeZip(
        spooled, what_fr=f"l'archive {name}", max_entries=MAX_INNER_ENTRIES, max_entry_bytes=MAX_INNER_ENTRY
    )
    return inner, digest


def verify(
    kernel: Kernel,
    path: Path,
    *,
    authorities: bytes | None = None,
    progress: Progress | None = None,
    catalogue: Catalogue | None = None,
) -> VerifiedArchive:
    """Check ``path`` (see the module's docstring); a French :class:`ArchiveRefused` says what is wrong."""
    if not path.is_file():
        raise ArchiveRefused(f"L'archive {path} n'existe pas.", detail=f"missing {path}")
    with open_outer(path) as outer:
        for name in ("MANIFEST.XML", "SIGN.XML", "TRANSVERSE.ZIP", "README.TXT"):
            if not outer.has(name):
                raise ArchiveRefused(
                    f"Le fichier {name} manque dans l'archive : elle est incomplète et refusée.", detail=f"no {name}"
                )
        manifest_bytes = outer.read("MANIFEST.XML", limit=MAX_MANIFEST)
        manifest = manifest_module.read(manifest_bytes)
        transverse_digest: list[str] = []

        def digest_of(name: str) -> str:
            if name == "MANIFEST.XML":
                return signature.sha256_hex(manifest_bytes)
            if not transverse_digest:
                transverse_digest.append(outer.sha256(name)[1])
            return transverse_digest[0]

        checked = signature.verify(
            outer.read("SIGN.XML", limit=MAX_SMALL_FILE),
            expected_finess=manifest.header.finess,
            test_mode=manifest.header.test_mode,
            digest_of=digest_of,
            authorities=authorities,
        )
        _check_listing(outer, manifest)
        _check_archives(outer, manifest, transverse_digest[0], progress)
    _check_server(kernel, manifest, catalogue)
    return VerifiedArchive(path, manifest, checked)


def _check_listing(outer: SafeZip, manifest: Manifest) -> None:
    listed = [entry.file_name for entry in manifest.archives]
    if len(set(listed)) != len(listed):
        raise ArchiveRefused("MANIFEST.XML cite deux fois la même archive : elle est refusée.", detail="duplicate")
    if listed.count("TRANSVERSE.ZIP") != 1:
        raise ArchiveRefused("MANIFEST.XML doit citer une archive transverse.", detail="transverse entries")
    allowed = {"README.TXT", "MANIFEST.XML", "SIGN.XML", *listed}
    for name in outer.names():
        if name not in allowed and not name.startswith("DOCUMENTATION/"):
            raise ArchiveRefused(
                f"L'archive contient un fichier que le manifeste ne cite pas ({name}) : elle est refusée.",
                detail=f"unexpected {name}",
            )
    for name in listed:
        if not outer.has(name):
            raise ArchiveRefused(
                f"L'archive {name} citée par le manifeste manque : l'archive est incomplète et refusée.",
                detail=f"missing {name}",
            )


def _check_archives(outer: SafeZip, manifest: Manifest, transverse_digest: str, progress: Progress | None) -> None:
    total = len(manifest.archives)
    for done, entry in enumerate(manifest.archives, start=1):
        name = entry.file_name
        limit = MAX_TRANSVERSE_ARCHIVE if entry.kind == "Transverse" else MAX_PATIENT_ARCHIVE
        if outer.size(name) != entry.size or entry.size > limit:
            raise ArchiveRefused(
                f"L'archive {name} n'a pas la taille que donne le manifeste : l'archive est refusée.",
                detail=f"{name}: {outer.size(name)} bytes, manifest {entry.size}",
            )
        if entry.kind == "Transverse":
            if transverse_digest != entry.sha256:
                raise ArchiveRefused(
                    "TRANSVERSE.ZIP n'a pas l'empreinte que donne le manifeste : l'archive est refusée.",
                    detail="transverse digest",
                )
            continue
        inner, digest = open_inner(outer, name)
        with inner:
            if digest != entry.sha256:
                raise ArchiveRefused(
                    f"L'archive {name} a été modifiée (empreinte SHA-256 différente de celle du manifeste) : "
                    "l'archive est refusée.",
                    detail=f"{name}: {digest} != {entry.sha256}",
                )
            inner.check_declared()
            for required in REQUIRED_PATIENT_FILES:
                if not inner.has(required):
                    raise ArchiveRefused(
                        f"Le fichier {required} manque dans {name} : l'archive est refusée.",
                        detail=f"{name}/{required}",
                    )
        if progress is not None:
            progress(done, total)


def _check_server(kernel: Kernel, manifest: Manifest, catalogue: Catalogue | None) -> None:
    from sqlalchemy import inspect, select

    from lgo.domain.pharmacy import Pharmacy
    from lgo.portability.tables import Catalogue

    catalogue = catalogue or Catalogue.of(kernel)
    present = set(inspect(kernel.engine).get_table_names())
    missing = sorted(
        name
        for name, rows in manifest.counts.items()
        if rows and (name not in catalogue.by_name or name not in present)
    )
    if missing:
        modules = sorted({manifest.table_owners.get(name, "?") for name in missing})
        raise ArchiveRefused(
            "L'archive contient des données que ce serveur ne sait pas recevoir (tables "
            + ", ".join(missing)
            + ", module(s) "
            + ", ".join(modules)
            + ") : installez ces modules et lancez « lgo db upgrade », puis recommencez.",
            detail=f"unknown tables {missing}",
        )
    with kernel.reading() as session:
        existing = session.scalar(select(Pharmacy.id).where(Pharmacy.finess == manifest.header.finess))
    if existing is not None:
        raise ArchiveRefused(
            f"L'officine FINESS {manifest.header.finess} existe déjà dans cette base : l'import se fait dans une "
            "officine vide (une base neuve, « lgo db upgrade », sans « lgo init »).",
            detail=f"pharmacy {existing} exists",
        )
