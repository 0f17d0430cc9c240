"""Erasure records and reviews are append-only; one report/record pair lookups are indexed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-27T13:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only erasure records and reviews"

APPEND_ONLY = ("erasure_record", "erasure_review")

COMMON = [
    "CREATE INDEX erasure_record_supersedes ON erasure_record (supersedes)",
    "CREATE INDEX erasure_record_report ON erasure_record (report)",
    "CREATE INDEX quality_check_week ON quality_check (week, result)",
]

SQLITE = [
    statement
    for table in APPEND_ONLY
    for statement in (
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END""",
    )
]

POSTGRES = [
    statement
    for table in APPEND_ONLY
    for statement in (
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refurb_refuse_change()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION refurb_refuse_change()""",
    )
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        engine_type = Migration._meta.db.engine_type
        for statement in COMMON + (SQLITE if engine_type == "sqlite" else POSTGRES):
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
