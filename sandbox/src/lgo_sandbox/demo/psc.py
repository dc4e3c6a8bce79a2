"""The plugin's part of ``lgo demo``: a fictional pharmacist signs in with Pro Santé Connect (local provider)."""

from __future__ import annotations

from lgo.api import Operator, Pharmacy
from lgo.demo import DemoContext, DemoStep

REDIRECT_URI = "http://127.0.0.1/plugins/psc/retour"
AFTER_LOGOUT = "http://127.0.0.1/plugins/psc/deconnecte"


def steps() -> list[DemoStep]:
    return [DemoStep("Pro Santé Connect : connexion de la titulaire, au bureau puis au comptoir", _sign_in_step)]


def _sign_in_step(ctx: DemoContext) -> list[str]:
    from lgo_psc import service

    from lgo_sandbox.psc import (
        PscSandboxUnavailable,
        browse_logout,
        browse_sign_in,
        client,
        pharmacist_claims,
        start_psc_sandbox,
    )

    with ctx.kernel.transaction() as db:
        titulaire = db.get(Operator, ctx.seeded.operators["titulaire"])
        pharmacy = db.get(Pharmacy, ctx.pharmacy_id)
        assert titulaire is not None and pharmacy is not None and titulaire.rpps
        rpps, name, finess = titulaire.rpps, titulaire.display_name, pharmacy.finess
    sub = f"f:demo-0000-0000-0000:{8}{rpps}"
    claims = pharmacist_claims(
        rpps,
        given_name="Claire",
        family_name="DURAND-DEMO",
        finess=finess,
        pharmacy_name="PHARMACIE DES TILLEULS (DEMO)",
    )
    try:
        sandbox = start_psc_sandbox(
            clients=[client("lgo-demo", "secret-de-demo", [REDIRECT_URI], post_logout_redirect_uris=[AFTER_LOGOUT])],
            accounts={sub: claims},
        )  # its own temporary folder (the client secret is in it), removed when it stops or at exit
    except PscSandboxUnavailable as exc:
        return [f"Pro Santé Connect de démonstration indisponible ({exc}) : étape passée."]
    lines = [f"Serveur Pro Santé Connect de démonstration démarré sur le poste ({sandbox.base_url})."]
    try:
        ctx.kernel.enable(ctx.pharmacy_id, "psc")
        ctx.kernel.save_plugin_settings(
            ctx.pharmacy_id,
            "psc",
            {
                "base_url": sandbox.base_url,
                "client_id": "lgo-demo",
                "client_secret": "secret-de-demo",
                "redirect_uri": REDIRECT_URI,
                "post_logout_redirect_uri": AFTER_LOGOUT,
            },
        )
        url, pending = service.begin(ctx.kernel, ctx.pharmacy_id, REDIRECT_URI, login_hint=f"8{rpps}")
        lines.append(
            "Clic sur « Se connecter avec Pro Santé Connect » : niveau eIDAS substantiel (eidas1), "
            "code à usage unique protégé (PKCE)."
        )
        signed = service.finish(ctx.kernel, ctx.pharmacy_id, pending, browse_sign_in(url, REDIRECT_URI))
        lines.append(
            f"PSC authentifie le professionnel n° RPPS {signed.professional.rpps} "
            f"({signed.professional.given_name} {signed.professional.family_name}), "
            f"{'pharmacien' if signed.professional.is_pharmacist else 'autre profession'}."
        )
        lines.append(
            f"Opérateur retrouvé par son RPPS : {name} — session ouverte."
            + (" Compte PSC lié à cet opérateur (première connexion)." if signed.first_binding else "")
        )
        if signed.activity:
            lines.append(
                f"Activité déclarée dans le RPPS : {signed.activity.organisation} "
                f"(FINESS {signed.activity.finess_site})."
            )
        renewed = service.keep_alive(ctx.kernel, ctx.pharmacy_id, signed.handle, force=True)
        lines.append(
            "Pendant le travail, la session est prolongée sans nouvelle saisie : "
            + ("jeton renouvelé." if renewed else "renouvellement refusé.")
        )
        logout = service.sign_out(ctx.kernel, ctx.pharmacy_id, signed.handle, post_logout_redirect_uri=AFTER_LOGOUT)
        if logout:
            browse_logout(logout)
        lines.append("Déconnexion : session Pro Santé Connect fermée, jetons effacés du poste.")
        request = service.ciba_start(
            ctx.kernel, ctx.pharmacy_id, ctx.seeded.operators["titulaire"], binding_message="LGO-COMPTOIR"
        )
        lines.append(
            "Au comptoir, la titulaire tape son code : PSC envoie une demande « LGO-COMPTOIR » sur son "
            "application e-CPS, le poste attend."
        )
        sandbox.ciba_approve(f"8{rpps}")
        counter = service.ciba_wait(
            ctx.kernel, ctx.pharmacy_id, ctx.seeded.operators["titulaire"], request, poll_interval=0.5
        )
        lines.append(f"Validation sur le téléphone : {name} est connectée au poste de comptoir.")
        service.sign_out(ctx.kernel, ctx.pharmacy_id, counter.handle, post_logout_redirect_uri=None)
        ctx.kernel.disable(ctx.pharmacy_id, "psc")
    finally:
        sandbox.stop()
    return lines
