"""Schema of the approvals database: an ordered list of migrations and a version table.

Migrations only ever get appended. `migrate` applies the missing ones in one transaction under an
advisory lock, so replicas starting together neither race nor apply a step twice.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg

# The advisory lock key only needs to be stable and unlikely to collide with another application's.
_MIGRATION_LOCK_KEY: Final = 0x6F7073626F74  # "opsbot"

_REQUEST_STATUSES: Final = "'pending','approved','executing','succeeded','failed','denied','expired','superseded'"

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: requests and the audit trail.
    f"""
    CREATE TABLE IF NOT EXISTS approval_requests (
        id          text PRIMARY KEY,
        action      text NOT NULL,
        service     text NOT NULL,
        params      jsonb NOT NULL DEFAULT '{{}}',
        state       jsonb NOT NULL DEFAULT '{{}}',
        requester   text NOT NULL,
        status      text NOT NULL CHECK (status IN ({_REQUEST_STATUSES})),
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        channel     text,
        message_ts  text,
        decided_by  text,
        outcome     text
    );
    CREATE INDEX IF NOT EXISTS approval_requests_pending
        ON approval_requests (action, service) WHERE status = 'pending';
    CREATE TABLE IF NOT EXISTS approval_audit (
        seq         bigserial PRIMARY KEY,
        at          timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor       text NOT NULL,
        event       text NOT NULL,
        request_id  text,
        action      text NOT NULL,
        service     text NOT NULL,
        params      jsonb NOT NULL DEFAULT '{{}}',
        detail      text NOT NULL DEFAULT '',
        channel     text,
        message_ts  text
    );
    CREATE INDEX IF NOT EXISTS approval_audit_service_at ON approval_audit (service, at);
    """,
    # 2: the trail is append-only, whoever connects; a bug or a hand-typed UPDATE cannot rewrite history.
    """
    CREATE OR REPLACE FUNCTION approval_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'approval_audit is append-only';
    END $$;
    DROP TRIGGER IF EXISTS approval_audit_append_only ON approval_audit;
    CREATE TRIGGER approval_audit_append_only BEFORE UPDATE OR DELETE ON approval_audit
        FOR EACH STATEMENT EXECUTE FUNCTION approval_audit_append_only();
    """,
    # 3: at most one pending request per action and service, as an invariant the database keeps (proposals
    # also take turns under an advisory lock, so a correct caller never trips it).
    """
    UPDATE approval_requests SET status = 'superseded', updated_at = now()
    WHERE status = 'pending' AND id NOT IN (
        SELECT DISTINCT ON (action, service) id FROM approval_requests
        WHERE status = 'pending' ORDER BY action, service, created_at DESC
    );
    DROP INDEX IF EXISTS approval_requests_pending;
    CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_one_pending
        ON approval_requests (action, service) WHERE status = 'pending';
    """,
    # 4: four eyes takes two distinct approvers; the first one is kept on the (still pending) request.
    """
    ALTER TABLE approval_requests ADD COLUMN IF NOT EXISTS first_approver text;
    """,
    # 5: a request whose buttons are about to be posted refuses clicks until its message is attached.
    """
    ALTER TABLE approval_requests ADD COLUMN IF NOT EXISTS awaiting_message boolean NOT NULL DEFAULT false;
    """,
    # 6: a request holding a first approval is no longer superseded by a new proposal (ApprovalStore.create),
    # so the invariant narrows to at most one pending request per action and service without an approval.
    """
    DROP INDEX IF EXISTS approval_requests_one_pending;
    CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_one_unapproved
        ON approval_requests (action, service) WHERE status = 'pending' AND first_approver IS NULL;
    """,
)


async def migrate(conn: psycopg.AsyncConnection[Any]) -> int:
    """Bring the schema up to date; returns the version reached."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS opsbot_schema_version ("
            " version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM opsbot_schema_version")
        row = await cursor.fetchone()
        current = int(_first(row))
        for version, statement in enumerate(MIGRATIONS, start=1):
            if version > current:
                await conn.execute(statement)  # several statements: allowed because no parameters are passed
                await conn.execute("INSERT INTO opsbot_schema_version (version) VALUES (%s)", (version,))
    return len(MIGRATIONS)


def _first(row: Any) -> Any:
    # The pool's connections return dict rows; a plain connection returns tuples.
    if row is None:
        return 0
    return next(iter(row.values())) if isinstance(row, dict) else row[0]
