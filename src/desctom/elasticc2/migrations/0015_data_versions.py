"""Data versions: a counter per table that every writing statement bumps, in its own transaction.

``elasticc2_dataversion`` has one row per table the follow-up answers read. A statement-level
trigger on each of those tables (INSERT, UPDATE, DELETE, TRUNCATE) adds one to the table's row, so
the counter changes exactly when a transaction that wrote the table commits, whoever wrote it (the
source updater, the follow-up endpoints, SQL by hand). Answers cached under the versions read
*before* the answer's snapshot are therefore never older than the data a new snapshot would see
(:mod:`desctom.elasticc2.queries.answercache`). One row per table: writers of different tables never
wait for each other. The truth table is left out: parallel loaders write it at once, and would
queue on its row (answers that read the truth, ``cheat_gentypes``, are not kept).
"""

from django.db import migrations

TABLES = (
    "elasticc2_diaobject", "elasticc2_diasource", "elasticc2_diaforcedsource",
    "elasticc2_diaobjectpackedphotometry", "elasticc2_spectruminfo",
    "elasticc2_wantedspectra", "elasticc2_plannedspectra", "elasticc2_diaobjectconsensus",
    "elasticc2_diaobjectconsensusasof", "elasticc2_diaobjectlatestclassification",
    "elasticc2_diasourcelatestclassification", "elasticc2_diaobjectinfo", "elasticc2_diaobjectclassification",
)

FORWARD = """
CREATE TABLE elasticc2_dataversion (
    table_name text PRIMARY KEY,
    version bigint NOT NULL DEFAULT 0
);
CREATE FUNCTION elasticc2_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE elasticc2_dataversion SET version = version + 1 WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END
$fn$;
""" + "".join(f"""
INSERT INTO elasticc2_dataversion (table_name) VALUES ('{t}');
CREATE TRIGGER {t}_dataversion AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION elasticc2_bump_data_version();
""" for t in TABLES)

BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_dataversion ON {t};\n" for t in TABLES) + """
DROP FUNCTION IF EXISTS elasticc2_bump_data_version();
DROP TABLE IF EXISTS elasticc2_dataversion;
"""


class Migration(migrations.Migration):
    dependencies = [("elasticc2", "0014_poller_group_members")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
