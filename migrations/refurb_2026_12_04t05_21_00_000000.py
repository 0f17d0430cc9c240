"""A person's decisions on a medium's kind are append-only; existing media get their sources.

Before, a drive without a flash flag was stored as "hdd" by default. Only what the tool or
the bus stated is kept as its statement (flash kinds and virtual devices); a kind chosen by
a person (a medium added by a technician, a new disk fitted by the workshop) becomes their
decision. The gate decides every other "hdd" again from its model (refurb.erasure.kinds).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-12-04T05:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only medium kind decisions"

TABLE = "medium_kind_decision"

COMMON = [
    "UPDATE medium SET tool_kind = kind, kind_basis = 'tool' "
    "WHERE kind IN ('ssd', 'nvme', 'emmc', 'usb', 'sd', 'other') AND source IN ('detected', 'declared')",
    "UPDATE medium SET confirmed_kind = kind, kind_basis = 'technician' "
    "WHERE source IN ('technician', 'new') AND kind <> 'unknown'",
]

SQLITE = [
    f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END""",
]

POSTGRES = [
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION refurb_refuse_change()""",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
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
