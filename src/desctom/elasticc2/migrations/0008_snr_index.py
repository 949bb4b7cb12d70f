"""A partial index of the known forced photometry with S/N > 3, for ``spectrawanted``'s ``latest``.

Per (object, band) the latest S/N > 3 point is then the first entry of a backward scan, instead of
a walk back through every later point of the object. The predicate is written exactly as
:data:`desctom.elasticc2.http.api.spectra.SNR3` so that the planner can use the index (PostgreSQL
matches a partial index's predicate by its form). About a quarter of the forced photometry is in it.
"""

from django.db import migrations

INDEX = "elasticc2_diaforced_snr3"


class Migration(migrations.Migration):
    dependencies = [("elasticc2", "0007_consensus")]
    operations = [migrations.RunSQL(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON elasticc2_diaforcedsource "
        "(diaobject_id, filtername, midpointtai, diaforcedsource_id) INCLUDE (psflux) "
        "WHERE psflux > 0 AND psflux > 3 * psfluxerr",
        f"DROP INDEX IF EXISTS {INDEX}")]
