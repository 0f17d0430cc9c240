"""One convoked appointment per household; one hand-over per (allocation, device); one open conflict per key.

The partial unique indexes are the database's own word that a household is never
convoked twice at once and a device is never handed over twice for one allocation,
whatever the code above them does (two tablets replaying at once).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-12-05T02:33:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique convocations and hand-overs"

COMMON = [
    "CREATE UNIQUE INDEX appointment_convoked_household ON appointment (household) WHERE status = 'convoked'",
    "CREATE UNIQUE INDEX handover_allocation_device ON handover (allocation, device)",
    "CREATE INDEX appointment_round_stop ON appointment (round, stop, slot)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        for statement in COMMON:
            await Migration.raw(statement).run()

    manager.add_raw(run)
    return manager
