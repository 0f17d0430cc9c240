"""Household histories, personal-data access logs and purge audits are append-only; composite unique keys.

A purge may blank a household event's free-text reason once (it may name or describe the
family) and mark it `redacted`; every other column stays as written, and nothing is deleted.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-12-04T19:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only household histories, access logs and purge audits"

APPEND_ONLY = ("personal_data_access", "purge_audit")

COMMON = [
    "CREATE UNIQUE INDEX programme_qpv_programme_code ON programme_qpv (programme, code)",
    "CREATE UNIQUE INDEX household_family_reference "
    "ON household (programme, referring_organisation, family_reference)",
    "CREATE INDEX household_event_household_id ON household_event (household, id)",
]

SQLITE = [
    """CREATE TRIGGER household_event_no_update BEFORE UPDATE ON household_event
       WHEN NOT (OLD.redacted = 0 AND NEW.redacted = 1 AND NEW.reason = ''
                 AND NEW.id = OLD.id AND NEW.household = OLD.household AND NEW.action = OLD.action
                 AND NEW.from_status IS OLD.from_status AND NEW.to_status = OLD.to_status
                 AND NEW.payload IS OLD.payload AND NEW.actor IS OLD.actor
                 AND NEW.actor_name = OLD.actor_name AND NEW.created_at IS OLD.created_at)
       BEGIN SELECT RAISE(ABORT, 'household_event is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER household_event_no_delete BEFORE DELETE ON household_event
       BEGIN SELECT RAISE(ABORT, 'household_event is append-only: DELETE refused'); END""",
    *(
        statement
        for table in APPEND_ONLY
        for statement in (
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END""",
        )
    ),
]

POSTGRES = [
    """CREATE FUNCTION refurb_household_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NOT OLD.redacted AND NEW.redacted AND NEW.reason = ''
            AND NEW.id = OLD.id AND NEW.household = OLD.household AND NEW.action = OLD.action
            AND NEW.from_status IS NOT DISTINCT FROM OLD.from_status AND NEW.to_status = OLD.to_status
            AND NEW.payload::text IS NOT DISTINCT FROM OLD.payload::text
            AND NEW.actor IS NOT DISTINCT FROM OLD.actor AND NEW.actor_name = OLD.actor_name
            AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
           USING ERRCODE = 'object_not_in_prerequisite_state';
       END $$""",
    """CREATE TRIGGER household_event_append_only BEFORE UPDATE OR DELETE ON household_event
       FOR EACH ROW EXECUTE FUNCTION refurb_household_event_guard()""",
    """CREATE TRIGGER household_event_no_truncate BEFORE TRUNCATE ON household_event
       FOR EACH STATEMENT EXECUTE FUNCTION refurb_refuse_change()""",
    *(
        statement
        for table in APPEND_ONLY
        for statement in (
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION refurb_refuse_change()""",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION refurb_refuse_change()""",
        )
    ),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        engine_type = Migration._meta.db.engine_type
        for statement in COMMON + (SQLITE if engine_type == "sqlite" else POSTGRES):
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
