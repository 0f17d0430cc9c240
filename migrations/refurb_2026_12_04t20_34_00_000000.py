"""Commission decisions are append-only; an allocation holds at most one device, a device one allocation.

The partial unique index is the database's own word that one device is never
reserved for two allocations, whatever the code above it does.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-12-04T20:34:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only commission decisions; one reserved allocation per device"

COMMON = [
    "CREATE UNIQUE INDEX allocation_reserved_device ON allocation (device) WHERE status = 'reserved'",
    "CREATE INDEX decision_session_id ON decision (session, id)",
]

SQLITE = [
    """CREATE TRIGGER decision_no_update BEFORE UPDATE ON decision
       BEGIN SELECT RAISE(ABORT, 'decision is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER decision_no_delete BEFORE DELETE ON decision
       BEGIN SELECT RAISE(ABORT, 'decision is append-only: DELETE refused'); END""",
]

POSTGRES = [
    """CREATE TRIGGER decision_append_only BEFORE UPDATE OR DELETE ON decision
       FOR EACH ROW EXECUTE FUNCTION refurb_refuse_change()""",
    """CREATE TRIGGER decision_no_truncate BEFORE TRUNCATE ON decision
       FOR EACH STATEMENT EXECUTE FUNCTION refurb_refuse_change()""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        engine_type = Migration._meta.db.engine_type
        for statement in COMMON + (SQLITE if engine_type == "sqlite" else POSTGRES):
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
