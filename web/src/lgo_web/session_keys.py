"""The session keys of a signed-in operator: the contract between the admin page and the plugins that sign
someone in (a sign-in method declared with ``lgo_register_sign_in_methods``). A plugin sets them in
:data:`flask.session` after its own authentication; it never imports ``lgo_web`` (the names are documented in
``web/README.md``)."""

from __future__ import annotations

#: ``int`` — ``operator.id`` of the signed-in operator (must belong to ``pharmacy_id`` and be active).
OPERATOR_ID = "operator_id"
#: ``int`` — ``pharmacy.id`` the operator signed in to.
PHARMACY_ID = "pharmacy_id"
#: ``str`` — how: ``"password"`` (code + password) or the ``auth_method`` of a plugin's sign-in method.
AUTH_METHOD = "auth_method"
#: ``float`` — Unix time of the sign-in; the session ends :data:`lgo_web.app.ABSOLUTE_LIFETIME` after it.
SIGNED_IN_AT = "signed_in_at"

ALL = (OPERATOR_ID, PHARMACY_ID, AUTH_METHOD, SIGNED_IN_AT)
