"""MSSanté sandboxes: a real mail system on loopback (:mod:`.mailserver`: Dovecot IMAP + aiosmtpd submission,
both with STARTTLS and client certificates) and an Annuaire Santé FHIR sandbox (:mod:`.annuaire`)."""

from __future__ import annotations
