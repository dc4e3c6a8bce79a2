"""A real MSSanté-like mail system on loopback: Dovecot (IMAP with STARTTLS, LMTP delivery) and an aiosmtpd
submission server (port 587 style: STARTTLS then AUTH), both requiring a TLS client certificate issued by the
local test authority, as the MSSanté operators do.

Every mailbox of the test (the pharmacy's, a professional's, a patient's Mon espace santé box) lives on this one
server: the submission server delivers any accepted message to Dovecot over LMTP. The submission server can be
stopped and started again on the same port, to show that nothing is lost while it is down.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgo_sandbox.pki import TestAuthority, server_context

DOVECOT = "/usr/sbin/dovecot"


class MailServerUnavailable(RuntimeError):
    """Dovecot or aiosmtpd is missing, or Dovecot did not start (the reason is in the message)."""


def available() -> str | None:
    """None when the mail server can run here, else the French reason."""
    if not Path(DOVECOT).exists():
        return "Dovecot n'est pas installé (paquets Debian « dovecot-imapd » et « dovecot-lmtpd »)"
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        return "aiosmtpd n'est pas installé (paquet PyPI « aiosmtpd »)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise MailServerUnavailable(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


_CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
instance_name = lgo-mss-{imap_port}
log_path = {base}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
{users}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_ca = <{ca}
ssl_min_protocol = TLSv1.2
ssl_verify_client_cert = yes
ssl_require_crl = no
auth_ssl_require_client_cert = yes
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%d/%n
}}
mail_location = maildir:~/Maildir
first_valid_uid = {first_uid}
first_valid_gid = 0
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener {base}/lmtp {{
    mode = 0666
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@localhost
}}
"""


@dataclass
class MailSandbox:
    """The running mail system. ``users`` maps each address to its password."""

    authority: TestAuthority
    users: dict[str, str]
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lgo-mss-")))
    imap_port: int = 0
    smtp_port: int = 0
    _dovecot: subprocess.Popen[bytes] | None = None
    _controller: Any = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def ca_path(self) -> Path:
        return self.authority.ca_path

    # -- Dovecot ------------------------------------------------------------------------------------------------

    def start(self) -> MailSandbox:
        reason = available()
        if reason:
            raise MailServerUnavailable(reason)
        self.base.chmod(0o755)  # Dovecot's unprivileged processes must reach the mailboxes
        (self.base / "mail").mkdir(exist_ok=True)
        self._write_users()
        server = self.authority.server("mss")
        if os.geteuid() == 0:
            uid, gid, first_uid = "nobody", "nogroup", 500
            users = "default_login_user = dovenull\ndefault_internal_user = dovecot"
            shutil.chown(self.base / "mail", "nobody", "nogroup")
        else:
            import pwd

            name = pwd.getpwuid(os.geteuid()).pw_name
            uid, gid, first_uid = str(os.geteuid()), str(os.getegid()), os.geteuid()
            users = f"default_login_user = {name}\ndefault_internal_user = {name}"
        self.imap_port = self.imap_port or free_port()
        config = self.base / "dovecot.conf"
        config.write_text(
            _CONFIG.format(
                base=self.base,
                users=users,
                cert=server.cert_path,
                key=server.key_path,
                ca=self.authority.ca_path,
                uid=uid,
                gid=gid,
                first_uid=first_uid,
                imap_port=self.imap_port,
            )
        )
        self._dovecot = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            _wait_port(self.imap_port)
        except MailServerUnavailable as exc:
            self.stop()
            log = (self.base / "dovecot.log").read_text() if (self.base / "dovecot.log").exists() else ""
            raise MailServerUnavailable(f"Dovecot did not start: {exc}\n{log[-2000:]}") from exc
        self.start_smtp()
        return self

    def _write_users(self) -> None:
        # The mailboxes' passwords: readable by Dovecot's authentication process only (it runs as the internal
        # user, "dovecot" when started as root), never by the other users of the machine.
        path = self.base / "users"
        path.touch(mode=0o600)
        path.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(path, "dovecot")
        path.write_text("".join(f"{address}:{{PLAIN}}{password}\n" for address, password in self.users.items()))

    def add_user(self, address: str, password: str) -> None:
        self.users[address] = password
        self._write_users()

    # -- submission (aiosmtpd) ----------------------------------------------------------------------------------

    def start_smtp(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        sandbox = self

        class Deliver:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sender = str(session.auth_data or "")
                if envelope.mail_from.lower() != sender.lower():
                    return "553 5.7.1 Sender differs from the authenticated account"
                await asyncio.get_running_loop().run_in_executor(
                    None, sandbox.deliver, envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                )
                return "250 OK"

            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
            ) -> str:
                if address.lower() not in {u.lower() for u in sandbox.users}:
                    return "550 5.1.1 Unknown mailbox in the trust space"
                envelope.rcpt_tos.append(address)
                return "250 OK"

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
            if not isinstance(auth_data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login, password = auth_data.login.decode(), auth_data.password.decode()
            return AuthResult(success=sandbox.users.get(login) == password, handled=False, auth_data=login)

        server = self.authority.server("mss")
        context = server_context(server, require_client_certificate=True)
        self.smtp_port = self.smtp_port or free_port()
        self._controller = Controller(
            Deliver(),
            hostname="127.0.0.1",
            port=self.smtp_port,
            tls_context=context,
            require_starttls=True,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=True,
            server_hostname="localhost",
            ready_timeout=10,
        )
        self._controller.start()

    def stop_smtp(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def deliver(self, sender: str, recipients: list[str], data: bytes) -> None:
        # One LMTP transaction per recipient: LMTP answers DATA once per recipient, which smtplib does not read.
        for recipient in recipients:
            with smtplib.LMTP(str(self.base / "lmtp")) as lmtp:
                lmtp.sendmail(sender, [recipient], data)

    # -- helpers for tests and the demo -------------------------------------------------------------------------

    def client_context(self, credential: Any) -> ssl.SSLContext:
        return credential.client_context()

    def stop(self) -> None:
        self.stop_smtp()
        if self._dovecot is not None:
            self._dovecot.send_signal(signal.SIGTERM)
            try:
                self._dovecot.wait(10)
            except subprocess.TimeoutExpired:
                self._dovecot.kill()
            self._dovecot = None
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> MailSandbox:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_mail_sandbox(authority: TestAuthority, users: dict[str, str]) -> MailSandbox:
    return MailSandbox(authority, dict(users)).start()
