"""Kernel tables, and the triggers that keep the audit log append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 06:40:07.897131
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pharmacy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("postal_code", sa.String(length=5), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("test_mode", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pharmacy")),
        sa.UniqueConstraint("finess", name=op.f("uq_pharmacy_finess")),
    )
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("rpps", sa.String(length=11), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_operator_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("pharmacy_id", "code", name=op.f("uq_operator_pharmacy_id_code")),
    )
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_pharmacy_id"), ["pharmacy_id"], unique=False)

    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("birth_name", sa.String(length=100), nullable=False),
        sa.Column("first_names", sa.String(length=200), nullable=False),
        sa.Column("used_first_name", sa.String(length=100), nullable=True),
        sa.Column("used_name", sa.String(length=100), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.String(length=10), nullable=False),
        sa.Column("birth_place_code", sa.String(length=5), nullable=True),
        sa.Column("vitale_nir", sa.String(length=15), nullable=True),
        sa.Column("vitale_rank", sa.Integer(), nullable=True),
        sa.Column("complementary_rate", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_patient_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patient_pharmacy_id"), ["pharmacy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patient_vitale_nir"), ["vitale_nir"], unique=False)

    op.create_table(
        "plugin_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=True),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("hook", sa.String(length=64), nullable=False),
        sa.Column("error_type", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_plugin_failure_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plugin_failure")),
    )
    with op.batch_alter_table("plugin_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plugin_failure_pharmacy_id"), ["pharmacy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plugin_failure_plugin"), ["plugin"], unique=False)

    op.create_table(
        "plugin_settings",
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_plugin_settings_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("pharmacy_id", "plugin", name=op.f("pk_plugin_settings")),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("cip13", sa.String(length=13), nullable=False),
        sa.Column("cis", sa.String(length=8), nullable=True),
        sa.Column("atc", sa.String(length=7), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("is_vaccine", sa.Boolean(), nullable=False),
        sa.Column("list_category", sa.String(length=16), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("reimbursement_rate", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_product_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("pharmacy_id", "cip13", name=op.f("uq_product_pharmacy_id_cip13")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_pharmacy_id"), ["pharmacy_id"], unique=False)

    op.create_table(
        "provider_selection",
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("capability", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_provider_selection_pharmacy_id_pharmacy")
        ),
        sa.PrimaryKeyConstraint("pharmacy_id", "capability", name=op.f("pk_provider_selection")),
    )
    op.create_table(
        "sequence_counter",
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_sequence_counter_pharmacy_id_pharmacy")
        ),
        sa.PrimaryKeyConstraint("pharmacy_id", "name", name=op.f("pk_sequence_counter")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("message_fr", sa.String(length=500), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"], name=op.f("fk_audit_entry_operator_id_operator")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_audit_entry_patient_id_patient")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_audit_entry_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_pharmacy_id"), ["pharmacy_id"], unique=False)

    op.create_table(
        "operator_habilitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("habilitation", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_operator_habilitation_operator_id_operator")
        ),
        sa.ForeignKeyConstraint(
            ["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_operator_habilitation_pharmacy_id_pharmacy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_habilitation")),
        sa.UniqueConstraint(
            "operator_id", "habilitation", name=op.f("uq_operator_habilitation_operator_id_habilitation")
        ),
    )
    with op.batch_alter_table("operator_habilitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_habilitation_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_operator_habilitation_pharmacy_id"), ["pharmacy_id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_outbox_message_patient_id_patient")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_outbox_message_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint(
            "pharmacy_id", "idempotency_key", name=op.f("uq_outbox_message_pharmacy_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_pharmacy_id"), ["pharmacy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_status"), ["status"], unique=False)

    op.create_table(
        "plugin_activation",
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["changed_by"], ["operator.id"], name=op.f("fk_plugin_activation_changed_by_operator")),
        sa.ForeignKeyConstraint(
            ["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_plugin_activation_pharmacy_id_pharmacy")
        ),
        sa.PrimaryKeyConstraint("pharmacy_id", "plugin", name=op.f("pk_plugin_activation")),
    )
    op.create_table(
        "prescription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("prescriber_rpps", sa.String(length=11), nullable=True),
        sa.Column("prescriber_name", sa.String(length=200), nullable=False),
        sa.Column("prescribed_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_prescription_patient_id_patient")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_prescription_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription")),
    )
    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prescription_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prescription_pharmacy_id"), ["pharmacy_id"], unique=False)

    op.create_table(
        "stock_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_stock_lot_pharmacy_id_pharmacy")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_stock_lot_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_lot")),
        sa.UniqueConstraint(
            "pharmacy_id",
            "product_id",
            "lot_number",
            name=op.f("uq_stock_lot_pharmacy_id_product_id_lot_number"),
        ),
    )
    with op.batch_alter_table("stock_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_lot_pharmacy_id"), ["pharmacy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_lot_product_id"), ["product_id"], unique=False)

    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("prescription_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("amo_cents", sa.Integer(), nullable=False),
        sa.Column("amc_cents", sa.Integer(), nullable=False),
        sa.Column("patient_cents", sa.Integer(), nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancels_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["cancels_id"], ["invoice.id"], name=op.f("fk_invoice_cancels_id_invoice")),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"], name=op.f("fk_invoice_operator_id_operator")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_invoice_patient_id_patient")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_invoice_pharmacy_id_pharmacy")),
        sa.ForeignKeyConstraint(
            ["prescription_id"], ["prescription.id"], name=op.f("fk_invoice_prescription_id_prescription")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("pharmacy_id", "number", name=op.f("uq_invoice_pharmacy_id_number")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_pharmacy_id"), ["pharmacy_id"], unique=False)

    op.create_table(
        "dispensation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("prescription_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("correction_reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["dispensation.id"], name=op.f("fk_dispensation_corrects_id_dispensation")
        ),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_dispensation_invoice_id_invoice")),
        sa.ForeignKeyConstraint(["lot_id"], ["stock_lot.id"], name=op.f("fk_dispensation_lot_id_stock_lot")),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"], name=op.f("fk_dispensation_operator_id_operator")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_dispensation_patient_id_patient")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_dispensation_pharmacy_id_pharmacy")),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescription.id"],
            name=op.f("fk_dispensation_prescription_id_prescription"),
        ),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_dispensation_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispensation")),
        sa.UniqueConstraint("pharmacy_id", "number", name=op.f("uq_dispensation_pharmacy_id_number")),
    )
    with op.batch_alter_table("dispensation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispensation_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispensation_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispensation_pharmacy_id"), ["pharmacy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispensation_prescription_id"), ["prescription_id"], unique=False)

    op.create_table(
        "invoice_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("act_code", sa.String(length=8), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("reimbursement_rate", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("amo_cents", sa.Integer(), nullable=False),
        sa.Column("amc_cents", sa.Integer(), nullable=False),
        sa.Column("patient_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_line_invoice_id_invoice")),
        sa.ForeignKeyConstraint(["lot_id"], ["stock_lot.id"], name=op.f("fk_invoice_line_lot_id_stock_lot")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_invoice_line_pharmacy_id_pharmacy")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_invoice_line_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
    )
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_line_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_line_pharmacy_id"), ["pharmacy_id"], unique=False)

    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_stock_movement_invoice_id_invoice")),
        sa.ForeignKeyConstraint(["lot_id"], ["stock_lot.id"], name=op.f("fk_stock_movement_lot_id_stock_lot")),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"], name=op.f("fk_stock_movement_operator_id_operator")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_stock_movement_pharmacy_id_pharmacy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_movement_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_movement_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_movement_pharmacy_id"), ["pharmacy_id"], unique=False)

    _audit_append_only_up()


def downgrade() -> None:
    _audit_append_only_down()
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_movement_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_stock_movement_lot_id"))
        batch_op.drop_index(batch_op.f("ix_stock_movement_invoice_id"))

    op.drop_table("stock_movement")
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_line_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_line_invoice_id"))

    op.drop_table("invoice_line")
    with op.batch_alter_table("dispensation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispensation_prescription_id"))
        batch_op.drop_index(batch_op.f("ix_dispensation_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_dispensation_patient_id"))
        batch_op.drop_index(batch_op.f("ix_dispensation_invoice_id"))

    op.drop_table("dispensation")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_patient_id"))

    op.drop_table("invoice")
    with op.batch_alter_table("stock_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_lot_product_id"))
        batch_op.drop_index(batch_op.f("ix_stock_lot_pharmacy_id"))

    op.drop_table("stock_lot")
    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescription_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_prescription_patient_id"))

    op.drop_table("prescription")
    op.drop_table("plugin_activation")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_next_attempt_at"))

    op.drop_table("outbox_message")
    with op.batch_alter_table("operator_habilitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_habilitation_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_operator_habilitation_operator_id"))

    op.drop_table("operator_habilitation")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_patient_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_action"))

    op.drop_table("audit_entry")
    op.drop_table("sequence_counter")
    op.drop_table("provider_selection")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_pharmacy_id"))

    op.drop_table("product")
    op.drop_table("plugin_settings")
    with op.batch_alter_table("plugin_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plugin_failure_plugin"))
        batch_op.drop_index(batch_op.f("ix_plugin_failure_pharmacy_id"))

    op.drop_table("plugin_failure")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_vitale_nir"))
        batch_op.drop_index(batch_op.f("ix_patient_pharmacy_id"))

    op.drop_table("patient")
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_pharmacy_id"))

    op.drop_table("operator")
    op.drop_table("pharmacy")


# The audit log refuses UPDATE and DELETE in the database itself, not only in the ORM.
_REFUSAL = "audit_entry is append-only"


def _audit_append_only_up() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_entry_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse()"
        )


def _audit_append_only_down() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_refuse()")
