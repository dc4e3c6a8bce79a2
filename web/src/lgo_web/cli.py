"""``lgo web`` (alias ``lgo serve``): serve the administrator's page. Registered in the kernel's command line
through the entry-point group ``lgo.commands``; the kernel never imports this package otherwise."""

from __future__ import annotations

import errno
import signal
import socket
import ssl
import threading
from pathlib import Path

import click
from lgo.cli import shown_option
from lgo.settings_fields import is_loopback


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port ourselves (werkzeug would print an English message and exit): French errors for a port in
    use or reserved, then werkzeug serves on this socket."""
    from lgo.cli import FrenchError
    from werkzeug.serving import select_address_family

    family = select_address_family(host, port)
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
        listening.listen(128)
    except OSError as exc:
        listening.close()
        if exc.errno == errno.EADDRINUSE:
            raise FrenchError(
                f"Le port {port} est déjà utilisé sur {host} (une autre page d'administration tourne peut-être) : "
                "arrêtez-la ou choisissez un autre port avec --port."
            ) from exc
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise FrenchError(
                f"Ce compte n'a pas le droit d'écouter sur le port {port} : choisissez un port au-delà de 1024 avec "
                "--port."
            ) from exc
        raise FrenchError(f"Impossible d'écouter sur {host}:{port} : {exc.strerror or exc}.") from exc
    return listening


def _run(host: str, port: int, certificate: Path | None, key: Path | None) -> None:
    from lgo.cli import FrenchError
    from lgo.errors import LgoError
    from werkzeug.serving import make_server

    from lgo_web.app import create_app

    if (certificate is None) != (key is None):
        raise click.UsageError("Indiquez à la fois --certificate et --key (ou aucun des deux).")
    if certificate is None and not is_loopback(host):
        raise click.UsageError(
            "Sans certificat, la page n'est servie qu'en local (127.0.0.1) : pour l'ouvrir sur le réseau de "
            "l'officine, donnez --certificate et --key (HTTPS)."
        )
    context = None
    if certificate is not None and key is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(certificate, key)
        except (OSError, ssl.SSLError) as exc:
            raise FrenchError(f"Certificat ou clé du serveur illisible : {exc}") from exc
    from lgo.kernel import Kernel

    kernel = Kernel()
    problem = kernel.not_ready_reason()
    if problem is not None:
        kernel.close()
        raise FrenchError(problem)
    try:
        app = create_app(kernel.start(), secure_cookies=context is not None)
    except LgoError as exc:
        raise FrenchError(exc.message_fr) from exc
    try:
        listening = _listen(host, port)
    except FrenchError:
        kernel.close()
        raise
    with listening:  # werkzeug takes a duplicate of the descriptor
        server = make_server(
            host, listening.getsockname()[1], app, threaded=True, ssl_context=context, fd=listening.fileno()
        )
    scheme = "https" if context else "http"
    click.echo(f"Page d'administration : {scheme}://{host}:{server.port}/ (Ctrl-C pour arrêter).")
    if context is None:
        click.echo("Attention : HTTP sans chiffrement, accessible depuis ce poste seulement.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Arrêt de la page d'administration.")
    finally:
        server.server_close()
        kernel.close()


def serve_kernel(kernel: object, host: str, port: int, echo: object) -> None:
    """Serve the counter and the admin pages for an open kernel on loopback until Ctrl-C (``lgo demo --web``,
    through the entry-point group ``lgo.web``: the kernel does not import this package)."""
    from lgo.kernel import Kernel
    from werkzeug.serving import make_server

    from lgo_web.app import create_app

    assert isinstance(kernel, Kernel)
    if not is_loopback(host):
        raise click.UsageError("La démonstration n'est servie qu'en local (127.0.0.1).")
    server = make_server(host, port, create_app(kernel, secure_cookies=False), threaded=True)
    say = echo if callable(echo) else click.echo
    say(f"Comptoir : http://{host}:{server.server_port}/comptoir/ (Ctrl-C pour arrêter).")

    def stop(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM ends the demonstration as Ctrl-C does (sandboxes stopped, files removed)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("Arrêt de la démonstration.")
    finally:
        server.server_close()


_PEM_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _command(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text)
    @click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
    @shown_option("--port", 8080, click.IntRange(0, 65535), "Port d'écoute (0 : un port libre).")
    @click.option(
        "--certificate", type=_PEM_FILE, help="Certificat du serveur (PEM) : HTTPS, obligatoire hors de ce poste."
    )
    @click.option("--key", type=_PEM_FILE, help="Clé privée du certificat du serveur (PEM).")
    def command(host: str, port: int, certificate: Path | None, key: Path | None) -> None:
        _run(host, port, certificate, key)

    return command


web = _command("web", "Démarre la page d'administration (modules, fournisseurs, paramètres, certificat, file d'envoi).")
serve = _command("serve", "Démarre la page d'administration (comme « lgo web »).")
