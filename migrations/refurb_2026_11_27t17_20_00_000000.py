"""The workshop lists a fresh installation offers until the workshop edits them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-27T17:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "default OS images and software profiles"

DEFAULTS = [
    ("os_image", "Windows 11 Pro"),
    ("os_image", "Windows 10 Pro"),
    ("os_image", "Linux Mint 22"),
    ("os_image", "Ubuntu 24.04 LTS"),
    ("os_image", "PrimTux 8"),
    ("software_profile", "Bureautique (LibreOffice, navigateur, lecteur PDF)"),
    ("software_profile", "Scolaire (ENT, bureautique, contrôle parental)"),
    ("software_profile", "Jeunes enfants (PrimTux, contrôle parental)"),
    ("software_profile", "Recherche d'emploi (bureautique, visio, France Travail)"),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="refurb", description=DESCRIPTION)

    async def run():
        for list_name, name in DEFAULTS:
            await Migration.raw(
                'INSERT INTO workshop_choice ("list", name, active, created_at, updated_at) '
                "VALUES ({}, {}, TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                list_name,
                name,
            ).run()

    manager.add_raw(run)
    return manager
