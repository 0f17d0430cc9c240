"""One live licence per device; one entry per name in each workshop list; keys picked per pool."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-27T16:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "licence and workshop list unique indexes"

STATEMENTS = [
    "CREATE UNIQUE INDEX licence_assignment_live ON licence_assignment (device) WHERE unassigned_at IS NULL",
    'CREATE UNIQUE INDEX workshop_choice_list_name ON workshop_choice ("list", name)',
    "CREATE INDEX licence_key_pool_status ON licence_key (pool, status, id)",
    "CREATE INDEX reconditioning_created ON reconditioning (created_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        for statement in STATEMENTS:
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
