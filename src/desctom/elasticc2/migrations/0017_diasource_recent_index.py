"""The known detections' time index also holds ``diaobject_id`` (an index-only scan finds the objects
detected since a time). Built concurrently -- ingest and the updater go on writing meanwhile -- before
the plain ``midpointtai`` index it replaces is dropped, so time-range reads always have an index."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('elasticc2', '0016_forced_midpointtai_unindexed'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='diasource',
            index=models.Index(fields=['midpointtai'], include=('diaobject',), name='elasticc2_diasource_recent'),
        ),
        migrations.AlterField(
            model_name='diasource',
            name='midpointtai',
            field=models.FloatField(),
        ),
    ]
