"""consent records which text was agreed to

``person.consent_version`` names the consent text (``core/services/consent.py``): its key
and the first digits of the SHA-256 of its wording. People registered before this revision
agreed to the texts as they stood in 0.1.0, which are the first versions: submitters of an
idea to ``idea-submission``, people registered by staff to ``registered-by-staff``.

Revision ID: 0006_consent_version
Revises: 0005_session_generation
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_consent_version"
down_revision = "0005_session_generation"
branch_labels = None
depends_on = None

# The versions as core/services/consent.py computes them for the 0.1.0 wording; fixed here
# because a migration must not change when the texts later do.
IDEA_SUBMISSION = "idea-submission/163939b037f3"
REGISTERED_BY_STAFF = "registered-by-staff/16bb6e8a66df"


def upgrade() -> None:
    op.add_column("person", sa.Column("consent_version", sa.String(length=80), nullable=True))
    op.execute(
        sa.text(
            "UPDATE person SET consent_version = :version WHERE consent_at IS NOT NULL"
            " AND id IN (SELECT submitter_id FROM idea WHERE submitter_id IS NOT NULL)"
        ).bindparams(version=IDEA_SUBMISSION)
    )
    op.execute(
        sa.text(
            "UPDATE person SET consent_version = :version"
            " WHERE consent_at IS NOT NULL AND consent_version IS NULL"
        ).bindparams(version=REGISTERED_BY_STAFF)
    )


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("consent_version")
