"""desk: atomic decisions, sessions, login throttling, memos

Revision ID: 0002_desk
Revises: 0001
Create Date: 2026-12-07 12:47:26.693621
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_desk'
down_revision = '0001'
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, name: str) -> None:
    """A nullable column referring to users.id, added in place on SQLite as on PostgreSQL."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES users (id)')
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(name), table, 'users', [column], ['id'])


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('case_memos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_memos_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_memos_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_memos'))
    )
    with op.batch_alter_table('case_memos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_memos_case_id'), ['case_id'], unique=False)

    # Columns are added in place (ALTER TABLE ADD COLUMN, their foreign keys inline): on SQLite a
    # batch copy of cases, decisions or record_fields would have to drop a table other tables'
    # rows refer to, which fails on an installation that has data.
    _add_reference('cases', 'assignee_id', 'fk_cases_assignee_id_users')
    op.add_column('decisions', sa.Column('acknowledged', sa.JSON(), server_default='{}', nullable=False))
    op.add_column('decisions', sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True))
    _add_reference('decisions', 'undone_by', 'fk_decisions_undone_by_users')
    op.add_column('decisions', sa.Column('undo_reason', sa.Text(), server_default='', nullable=False))

    # Cases decided more than once before this revision keep their latest decision standing.
    op.execute(
        "UPDATE decisions SET undone_at = CURRENT_TIMESTAMP, undo_reason = 'superseded (before 0002_desk)' "
        "WHERE id NOT IN (SELECT MAX(id) FROM decisions GROUP BY case_id)"
    )
    op.create_index('uq_decisions_standing', 'decisions', ['case_id'], unique=True,
                    sqlite_where=sa.text('undone_at IS NULL'), postgresql_where=sa.text('undone_at IS NULL'))

    op.add_column('documents', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('documents', sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
    _add_reference('record_fields', 'confirmed_by', 'fk_record_fields_confirmed_by_users')
    op.add_column('record_fields', sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('must_change_password')

    with op.batch_alter_table('record_fields', schema=None) as batch_op:
        if not sqlite:  # there the table is copied without the column and its reference
            batch_op.drop_constraint(batch_op.f('fk_record_fields_confirmed_by_users'), type_='foreignkey')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirmed_by')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('started_at')
        batch_op.drop_column('attempts')

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        if not sqlite:  # there the table is copied without the column and its reference
            batch_op.drop_constraint(batch_op.f('fk_decisions_undone_by_users'), type_='foreignkey')
        batch_op.drop_index('uq_decisions_standing', sqlite_where=sa.text('undone_at IS NULL'), postgresql_where=sa.text('undone_at IS NULL'))
        batch_op.drop_column('undo_reason')
        batch_op.drop_column('undone_by')
        batch_op.drop_column('undone_at')
        batch_op.drop_column('acknowledged')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        if not sqlite:  # there the table is copied without the column and its reference
            batch_op.drop_constraint(batch_op.f('fk_cases_assignee_id_users'), type_='foreignkey')
        batch_op.drop_column('assignee_id')

    with op.batch_alter_table('case_memos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_memos_case_id'))

    op.drop_table('case_memos')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_at')
        batch_op.drop_index('ix_login_attempts_ip_at')

    op.drop_table('login_attempts')
