"""Append-only device events, and the composite unique indexes.

Raw SQL per engine: SQLite cannot add constraints to existing tables, and the
append-only rule must hold for any client of the database, not just Refurb.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-22T03:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only device events, composite unique indexes"

COMMON = [
    "CREATE UNIQUE INDEX device_event_device_idempotency_key ON device_event (device, idempotency_key)",
    'CREATE UNIQUE INDEX idempotency_record_user_key ON idempotency_record ("user", key)',
    "CREATE INDEX device_event_device_id ON device_event (device, id)",
    "CREATE INDEX scan_station_id ON scan (station, id)",
    "CREATE INDEX login_failure_created_at ON login_failure (created_at)",
]

SQLITE = [
    """CREATE TRIGGER device_event_no_update BEFORE UPDATE ON device_event
       BEGIN SELECT RAISE(ABORT, 'device_event is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER device_event_no_delete BEFORE DELETE ON device_event
       BEGIN SELECT RAISE(ABORT, 'device_event is append-only: DELETE refused'); END""",
]

POSTGRES = [
    """CREATE FUNCTION refurb_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
           USING ERRCODE = 'object_not_in_prerequisite_state';
       END $$""",
    """CREATE TRIGGER device_event_append_only BEFORE UPDATE OR DELETE ON device_event
       FOR EACH ROW EXECUTE FUNCTION refurb_refuse_change()""",
    """CREATE TRIGGER device_event_no_truncate BEFORE TRUNCATE ON device_event
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
