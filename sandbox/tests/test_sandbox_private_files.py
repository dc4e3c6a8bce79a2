"""The sandboxes keep their secrets private and leave nothing behind (issue 16): the test Pro Santé Connect
provider's folder (with the clients' secrets) is private and removed when it stops; the mail server's file of
mailbox passwords is readable by Dovecot only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from lgo.testing import _require_or_skip


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_psc_provider_keeps_its_secrets_private_and_removes_them() -> None:
    from lgo_sandbox.psc import PscSandboxUnavailable, client, node_available, start_psc_sandbox

    if not node_available():
        _require_or_skip("Node.js et npm absents : fournisseur Pro Santé Connect de test non essayé")
    try:
        sandbox = start_psc_sandbox(
            clients=[client("lgo-demo", "secret-de-demo", ["http://127.0.0.1/plugins/psc/retour"])],
            accounts={"f:demo:899999000013": {"SubjectNameID": "899999000013"}},
        )
    except PscSandboxUnavailable as exc:
        pytest.fail(f"le fournisseur PSC de test n'a pas démarré : {exc}")
    folder = sandbox.workdir
    assert _mode(folder) == 0o700 and _mode(folder / "psc-op.json") == 0o600
    assert "secret-de-demo" in (folder / "psc-op.json").read_text()
    sandbox.stop()
    assert not folder.exists()


def test_the_mail_server_s_passwords_are_not_readable_by_others(tmp_path: Path) -> None:
    from lgo_sandbox.mss.mailserver import available, start_mail_sandbox
    from lgo_sandbox.pki import TestAuthority

    reason = available()
    if reason:
        _require_or_skip(f"{reason} : serveur de messagerie de test non essayé")
    sandbox = start_mail_sandbox(TestAuthority(tmp_path / "pki"), {"a@b.mssante.fr": "mot-de-passe"})
    try:
        users = sandbox.base / "users"
        assert _mode(users) == 0o600
        sandbox.add_user("c@d.mssante.fr", "autre")
        assert _mode(users) == 0o600 and "c@d.mssante.fr" in users.read_text()
    finally:
        sandbox.stop()
