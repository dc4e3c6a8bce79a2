"""The XDM archive the pharmacy sends (IHE ITI TF-2, XDM media): METADATA.XML valid against the ebRIM schemas, the
sourceId an OID, INDEX.HTM well-formed XHTML, README.TXT with the application's name, version and charset."""

from __future__ import annotations

import io
import zipfile

import pytest
from lgo.errors import ValidationError
from lgo.testing.fakes import FakeIdentityPlugin
from lgo.testing.xds import metadata_errors
from lgo_mssante import xdm
from lgo_mssante.testing import xdm_errors
from lgo_sandbox.mss.documents import professional_cda

SOURCE = "1.2.250.1.999.9.1"


def _archive(source_id: str = SOURCE, documents: int = 2) -> bytes:
    cda = professional_cda(FakeIdentityPlugin().identity(1))
    return xdm.build(
        [xdm.OutgoingDocument(cda, f"Document n°{n} <à lire> & « relire »") for n in range(1, documents + 1)],
        source_id=source_id,
        sender="officine@pharmacie.mssante.fr",
        recipients=["medecin@medecin.mssante.fr"],
    )


def test_every_part_of_the_archive_follows_the_xdm_media_profile() -> None:
    archive = _archive()
    assert xdm_errors(archive) == []
    with zipfile.ZipFile(io.BytesIO(archive)) as content:
        metadata = content.read("IHE_XDM/SUBSET01/METADATA.XML")
        readme = content.read("README.TXT").decode("utf-8")
    assert metadata_errors(metadata) == []
    assert readme.startswith("Jeu de caractères : UTF-8") and "Version de l'application : " in readme
    assert [d.name for d in xdm.read(archive)] == ["DOC0001.XML", "DOC0002.XML"]


@pytest.mark.parametrize("source_id", ["LGO-LIBRE", "1.2.x", "", "1..2"])
def test_a_source_id_that_is_not_an_oid_is_refused_in_french(source_id: str) -> None:
    with pytest.raises(ValidationError, match="sourceId\\) doit être un OID"):
        _archive(source_id)
