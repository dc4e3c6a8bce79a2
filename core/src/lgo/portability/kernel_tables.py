"""The kernel's own tables in a pharmacy's export, described in French column by column (the data dictionary of
the archive is generated from these words)."""

from __future__ import annotations

from typing import Any

from lgo.portability.tables import ColumnTransform, ExcludedTable, PortableTable, table_of

#: A stored secret (``lgo.secrets``) starts so: it never leaves the server (it is encrypted with this server's key).
SECRET_PREFIX = "enc:"
#: Setting names that hold a secret, whatever their stored form.
SECRET_WORDS = ("password", "passphrase", "secret", "api_key", "token", "mot_de_passe")


def _without_secrets(values: Any) -> Any:
    """A plugin's settings without the fields stored encrypted (passwords...): they are entered again on the new
    server."""
    if not isinstance(values, dict):
        return values
    return {
        key: value
        for key, value in values.items()
        if not (isinstance(value, str) and value.startswith(SECRET_PREFIX))
        # a secret saved in clear before its field became secret is encrypted at its next save only (decision 0012)
        and not any(word in key.lower() for word in SECRET_WORDS)
    }


def _outbox_status(value: Any) -> Any:
    """A message being sent at export time is waiting at the destination (its lease does not travel)."""
    return "pending" if str(getattr(value, "value", value)) == "in_flight" else value


def _same(value: Any) -> Any:
    return value


def kernel_tables() -> list[PortableTable]:
    from lgo.documents.model import HealthDocument
    from lgo.domain.audit import AuditEntry
    from lgo.domain.billing import Invoice, InvoiceLine
    from lgo.domain.dispensing import Dispensation, Prescription
    from lgo.domain.drafts import CounterDraft
    from lgo.domain.outbox import OutboxMessage
    from lgo.domain.patients import Patient
    from lgo.domain.pharmacy import Operator, OperatorHabilitation, Pharmacy
    from lgo.domain.plugin_state import PluginActivation, PluginSettings, ProviderSelection
    from lgo.domain.products import Product
    from lgo.domain.sequences import SequenceCounter
    from lgo.domain.stock import Lot, Movement

    return [
        PortableTable(
            table_of(Pharmacy),
            "Officine",
            {
                "name": "Nom de l'officine.",
                "finess": "Numéro FINESS de l'établissement (9 caractères, clé de Luhn).",
                "address": "Adresse postale.",
                "postal_code": "Code postal (5 chiffres).",
                "city": "Commune.",
                "test_mode": "Vrai si l'officine utilise les plateformes nationales de test.",
                "created_at": "Date d'enregistrement de l'officine dans le logiciel (UTC).",
            },
            pharmacy_column="id",
            shared=True,
        ),
        PortableTable(
            table_of(Operator),
            "Équipe : opérateurs (pharmaciens, préparateurs, administrateurs)",
            {
                "code": "Code de connexion de l'opérateur, unique dans l'officine.",
                "last_name": "Nom de famille.",
                "first_name": "Prénom.",
                "role": "Rôle : titulaire, pharmacien_adjoint, preparateur ou administrateur.",
                "rpps": "Numéro RPPS (11 chiffres) d'un pharmacien.",
                "active": "Faux pour un opérateur désactivé (il ne peut plus se connecter).",
                "created_at": "Date de création du compte (UTC).",
            },
            excluded={
                "password_hash": "Secret : chaque opérateur reçoit un mot de passe provisoire sur le nouveau serveur.",
                "must_change_password": "Recalculé : vrai pour tous les opérateurs importés (mot de passe à choisir).",
            },
            import_defaults={"password_hash": "", "must_change_password": True},
            shared=True,
        ),
        PortableTable(
            table_of(OperatorHabilitation),
            "Équipe : habilitations accordées à chaque opérateur",
            {"habilitation": "Code de l'habilitation (droit) accordée, par exemple stock.force ou dmp.consult."},
            shared=True,
        ),
        PortableTable(
            table_of(Patient),
            "Patients : traits d'identité tels que saisis ou lus sur la carte Vitale",
            {
                "id": "Identifiant local du patient dans l'officine.",
                "birth_name": "Nom de naissance (majuscules, translittération RNIV possible).",
                "first_names": "Prénoms de naissance dans l'ordre de l'état civil, séparés par une espace.",
                "used_first_name": "Prénom utilisé, s'il diffère du premier prénom.",
                "used_name": "Nom utilisé (nom d'usage), s'il diffère du nom de naissance.",
                "sex": "Sexe : M, F ou I (indéterminé).",
                "birth_date": "Date de naissance AAAA-MM-JJ ; 00 pour un jour ou un mois inconnu (règle du RNIV).",
                "birth_place_code": "Code INSEE de la commune de naissance, ou 99xxx pour un pays étranger.",
                "vitale_nir": "NIR de l'assuré lu sur la carte Vitale (13 caractères et clé).",
                "vitale_rank": "Rang du bénéficiaire sur la carte Vitale.",
                "complementary_rate": "Part du ticket modérateur prise en charge par la complémentaire (%).",
                "created_at": "Date de création du dossier patient (UTC).",
                "updated_at": "Date de la dernière modification des traits (UTC).",
            },
        ),
        PortableTable(
            table_of(Product),
            "Catalogue : produits de l'officine",
            {
                "cip13": "Code CIP13 du produit (GTIN-13, préfixe 34009).",
                "cis": "Code CIS du médicament (8 chiffres), s'il est connu.",
                "atc": "Classe ATC du médicament.",
                "label": "Libellé du produit.",
                "is_vaccine": "Vrai pour un vaccin.",
                "list_category": "Liste : vide (non listé), I, II ou stupefiant.",
                "price_cents": "Prix de vente en centimes d'euro.",
                "reimbursement_rate": "Taux de remboursement par l'Assurance Maladie (%).",
            },
            shared=True,
        ),
        PortableTable(
            table_of(Lot),
            "Stock : lots de chaque produit",
            {"lot_number": "Numéro de lot du fabricant.", "expiry": "Date de péremption du lot."},
            shared=True,
        ),
        PortableTable(
            table_of(Prescription),
            "Ordonnances reçues",
            {
                "prescriber_rpps": "RPPS du prescripteur, s'il est connu.",
                "prescriber_name": "Nom du prescripteur tel qu'il figure sur l'ordonnance.",
                "prescribed_on": "Date de la prescription.",
                "source": "Origine : papier, ou ordonnance_numerique (e-prescription exécutée).",
                "external_id": "Identifiant de l'ordonnance auprès du service émetteur (ordonnance numérique).",
                "renewal_number": "Numéro du renouvellement délivré (0 pour la première délivrance).",
                "created_at": "Date d'enregistrement de l'ordonnance (UTC).",
            },
        ),
        PortableTable(
            table_of(Invoice),
            "Factures validées (jamais modifiées ; une annulation est une nouvelle facture)",
            {
                "number": "Numéro de facture, sans trou dans l'officine.",
                "total_cents": "Montant total en centimes.",
                "amo_cents": "Part de l'assurance maladie obligatoire (AMO), en centimes.",
                "amc_cents": "Part de la complémentaire (AMC), en centimes.",
                "patient_cents": "Reste à la charge du patient, en centimes.",
                "validated_at": "Date et heure de validation (UTC).",
                "cancels_id": "Facture annulée par celle-ci (invoice.id).",
            },
        ),
        PortableTable(
            table_of(InvoiceLine),
            "Lignes des factures (produits et actes)",
            {
                "position": "Rang de la ligne dans la facture.",
                "kind": "product (produit) ou act (acte pharmaceutique).",
                "act_code": "Code de l'acte facturé (VGP, INJ, RVA, entretiens...).",
                "label": "Libellé facturé.",
                "quantity": "Quantité.",
                "unit_price_cents": "Prix unitaire en centimes.",
                "reimbursement_rate": "Taux de remboursement appliqué (%).",
                "total_cents": "Montant de la ligne en centimes.",
                "amo_cents": "Part AMO de la ligne, en centimes.",
                "amc_cents": "Part AMC de la ligne, en centimes.",
                "patient_cents": "Part du patient, en centimes.",
            },
        ),
        PortableTable(
            table_of(Dispensation),
            "Ordonnancier : une ligne par produit délivré sur ordonnance (jamais modifiée)",
            {
                "number": "Numéro d'inscription à l'ordonnancier, sans trou dans l'officine.",
                "quantity": "Quantité délivrée.",
                "validated_at": "Date et heure d'inscription (UTC).",
                "corrects_id": "Ligne corrigée par celle-ci (dispensation.id).",
                "correction_reason": "Motif de la correction.",
            },
        ),
        PortableTable(
            table_of(Movement),
            "Stock : mouvements (le stock d'un lot est la somme de ses mouvements)",
            {
                "quantity": "Unités entrées (positif) ou sorties (négatif).",
                "kind": "reception, sale (vente), return, inventory ou correction.",
                "forced": "Vrai pour une vente au-delà du stock, motivée.",
                "reason": "Motif (vente forcée, correction).",
                "at": "Date et heure du mouvement (UTC).",
            },
        ),
        PortableTable(
            table_of(HealthDocument),
            "Documents de santé produits par l'officine (CDA R2 tels que produits)",
            {
                "author_operator_id": "Auteur du document (operator.id).",
                "unique_id": "Identifiant unique du document (OID) : id du CDA et uniqueId XDS.",
                "set_id": "Identifiant commun à toutes les versions du document (setId du CDA).",
                "version": "Numéro de version.",
                "type_code": "Code LOINC du type de document.",
                "type_display": "Libellé du type de document.",
                "title": "Titre du document.",
                "status": "draft (brouillon), validated (validé), replaced (remplacé) ou deprecated (supprimé).",
                "confidentiality": "Code de confidentialité HL7 (N, R ou V).",
                "hidden_from_patient": "Vrai si le document est masqué au patient (DMP).",
                "hidden_from_legal_representatives": "Vrai si le document est masqué aux représentants légaux.",
                "masked_from_professionals": "Vrai si le document est masqué aux professionnels.",
                "mime_type": "Type MIME du contenu (text/xml pour un CDA).",
                "content": "Contenu du document : le fichier CDA de l'archive IHE XDM du patient.",
                "source_plugin": "Module qui a produit le document.",
                "source_ref": "Référence du document chez ce module.",
                "replaces_id": "Version remplacée par celle-ci (health_document.id).",
                "validated_at": "Date de validation (UTC).",
                "validated_by": "Pharmacien qui a validé (operator.id).",
                "status_changed_at": "Date du dernier changement d'état (UTC).",
                "status_reason": "Motif du dernier changement d'état.",
            },
        ),
        PortableTable(
            table_of(AuditEntry),
            "Journal d'audit : qui a fait quoi, quand, sur quel patient (aussi en lignes syslog)",
            {
                "at": "Date et heure (UTC).",
                "actor": "kernel (noyau), web, ou le module qui a écrit l'entrée.",
                "action": "Nom stable de l'action (billing.validated, dmp.consulted...).",
                "message_fr": "Ce qu'un pharmacien lit dans le journal.",
                "object_type": "Table de l'objet concerné.",
                "object_id": "Identifiant de l'objet concerné dans cette table.",
                "details": "Détails structurés (JSON).",
            },
            typed_references=(("object_type", "object_id"),),
        ),
        PortableTable(
            table_of(OutboxMessage),
            "File d'envoi : messages vers les services nationaux (traces DMP, DP, MSSanté...)",
            {
                "plugin": "Module qui a mis le message en file.",
                "kind": "Type d'envoi (dmp.send, mssante.send...).",
                "idempotency_key": "Clé d'idempotence transmise au destinataire.",
                "payload": "Contenu du message (JSON).",
                "status": "pending (en attente), delivered (délivré) ou dead (en échec définitif).",
                "attempts": "Nombre de tentatives.",
                "max_attempts": "Nombre maximal de tentatives.",
                "next_attempt_at": "Date de la prochaine tentative (UTC).",
                "last_error": "Erreur technique de la dernière tentative.",
                "last_error_fr": "La même erreur, en français.",
                "delivered_at": "Date de délivrance (UTC).",
            },
            excluded={
                "lease_until": "État d'exécution du serveur d'origine.",
                "locked_by": "État d'exécution du serveur d'origine.",
            },
            transforms={
                "status": ColumnTransform(
                    _outbox_status, _same, "Un message en cours d'envoi à l'export arrive « pending » (en attente)."
                )
            },
        ),
        PortableTable(
            table_of(SequenceCounter),
            "Numérotations sans trou (factures, ordonnancier) : dernier numéro attribué",
            {"name": "Nom de la numérotation (facture, ordonnancier).", "last_value": "Dernier numéro attribué."},
            shared=True,
        ),
        PortableTable(
            table_of(PluginActivation),
            "Modules : activation dans l'officine",
            {
                "plugin": "Nom du module.",
                "enabled": "Vrai si le module est actif dans l'officine.",
                "changed_at": "Date du dernier changement (UTC).",
                "changed_by": "Opérateur qui l'a changé (operator.id).",
            },
            shared=True,
        ),
        PortableTable(
            table_of(PluginSettings),
            "Modules : paramètres de l'officine (sans les secrets)",
            {
                "plugin": "Nom du module.",
                "values": "Paramètres (JSON) ; les champs secrets (mots de passe) sont retirés.",
                "updated_at": "Date de la dernière modification (UTC).",
            },
            transforms={
                "values": ColumnTransform(
                    _without_secrets, _same, "Les champs chiffrés (secrets) sont retirés ; ils se saisissent à nouveau."
                )
            },
            shared=True,
        ),
        PortableTable(
            table_of(CounterDraft),
            "Comptoir : facturations en cours enregistrées (brouillons) et celles validées depuis un brouillon",
            {
                "operator_id": "Opérateur qui a ouvert la facturation (operator.id).",
                "state": "Contenu de la facturation : ordonnance, lignes, actions (JSON).",
                "version": "Version du brouillon (augmente à chaque modification).",
                "status": "open (en cours), validated (facturé) ou abandoned.",
                "invoice_id": "Facture issue de ce brouillon (invoice.id).",
            },
        ),
        PortableTable(
            table_of(ProviderSelection),
            "Modules : fournisseur choisi pour chaque service (MSSanté, ordonnance numérique, DP...)",
            {
                "capability": "Service (capacité).",
                "provider": "Fournisseur choisi.",
                "changed_at": "Date du choix (UTC).",
            },
            shared=True,
        ),
    ]


def kernel_excluded() -> list[ExcludedTable]:
    return [
        ExcludedTable(
            "pharmacy_certificate", "Secret : le certificat de l'officine se dépose à nouveau (page Certificat)."
        ),
        ExcludedTable("plugin_failure", "Trace technique du serveur d'origine (erreurs des modules)."),
        ExcludedTable("patient_search_term", "Index de recherche, reconstruit à l'import."),
    ]
