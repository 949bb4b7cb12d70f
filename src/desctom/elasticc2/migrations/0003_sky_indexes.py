"""Sky indexes for cone searches: q3c where the server has it, declination B-trees always."""

from django.db import migrations


def create(apps, schema_editor):
    from desctom.elasticc2.queries.sky import ensure_sky_indexes

    ensure_sky_indexes(schema_editor.connection)


def drop(apps, schema_editor):
    from desctom.elasticc2.queries.sky import SKY_TABLES

    with schema_editor.connection.cursor() as cur:
        for table in SKY_TABLES:
            cur.execute(f"DROP INDEX IF EXISTS idx_elasticc2_{table}_q3c")
            cur.execute(f"DROP INDEX IF EXISTS idx_elasticc2_{table}_decl")


class Migration(migrations.Migration):
    dependencies = [("elasticc2", "0002_taxonomy")]
    operations = [migrations.RunPython(create, drop)]
