"""Whatever arrives by mail, reading it ends in a result or a French error, never in an unexpected exception; an
archive we build reads back the same documents."""

from __future__ import annotations

import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lgo.errors import LgoError
from lgo.testing.fakes import FakeIdentityPlugin
from lgo_mssante import message as mail
from lgo_mssante import xdm
from lgo_sandbox.mss.documents import professional_cda

CDA = professional_cda(FakeIdentityPlugin().identity(1))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes_as_a_mail_give_a_message_or_a_french_error(raw: bytes) -> None:
    try:
        mail.read(raw, max_bytes=10_000)
    except LgoError as exc:
        assert exc.message_fr


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)
        | st.sampled_from(["IHE_XDM/SUBSET01/METADATA.XML", "../x", "/etc/passwd", "a\\..\\b", "C:/x"]),
        st.binary(max_size=300) | st.just(b"<?xml version='1.0'?><x/>"),
        max_size=6,
    )
)
def test_any_zip_gives_documents_or_a_french_error(entries: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    try:
        xdm.read(buffer.getvalue())
    except LgoError as exc:
        assert exc.message_fr


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=30),
        min_size=1,
        max_size=4,
    )
)
def test_an_archive_we_build_reads_back_the_same_documents(titles: list[str]) -> None:
    archive = xdm.build(
        [xdm.OutgoingDocument(CDA, title) for title in titles],
        source_id="1.2.3",
        sender="a@b.mssante.fr",
        recipients=["c@d.mssante.fr"],
    )
    read = xdm.read(archive)
    assert [d.cda for d in read] == [CDA] * len(titles)
    assert [d.name for d in read] == [f"DOC{n:04d}.XML" for n in range(1, len(titles) + 1)]


def test_a_corrupt_or_encrypted_entry_is_an_unreadable_archive() -> None:
    import pytest

    good = xdm.build(
        [xdm.OutgoingDocument(CDA, "Essai")], source_id="1.2.3", sender="a@b.mssante.fr", recipients=["c@d.mssante.fr"]
    )
    corrupt = bytearray(good)
    start = good.index(b"DOC0001.XML") + len(b"DOC0001.XML")  # the local header's name, then the data
    corrupt[start + 20 : start + 60] = b"\xff" * 40
    encrypted = bytearray(good)
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):
        offset = 0
        while (offset := encrypted.find(marker, offset)) != -1:
            flag_at = offset + (6 if marker == b"PK\x03\x04" else 8)
            encrypted[flag_at] |= 0x01  # "encrypted" bit
            offset += 4
    for archive in (bytes(corrupt), bytes(encrypted)):
        with pytest.raises(LgoError) as refused:
            xdm.read(archive)
        assert "illisible" in refused.value.message_fr
