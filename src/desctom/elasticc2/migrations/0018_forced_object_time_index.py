"""A simulated survey's forced photometry is indexed by (object, time) instead of by object alone: the
source updater reads only the rows of an object since its latest known forced source (the night's
few) instead of all its few hundred, and the sender's reads by object use the same index. Built
concurrently (the sender and the updater go on meanwhile) before the object index it replaces is
dropped, so reads by object always have an index."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('elasticc2', '0017_diasource_recent_index'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='ppdbdiaforcedsource',
            index=models.Index(fields=['diaobject', 'midpointtai'], name='ppdb_forced_object_time'),
        ),
        AddIndexConcurrently(
            model_name='trainingdiaforcedsource',
            index=models.Index(fields=['diaobject', 'midpointtai'], name='training_forced_object_time'),
        ),
        migrations.AlterField(
            model_name='ppdbdiaforcedsource',
            name='diaobject',
            field=models.ForeignKey(db_column='diaobject_id', db_index=False,
                                    on_delete=django.db.models.deletion.CASCADE,
                                    related_name='diaforcedsources', to='elasticc2.ppdbdiaobject'),
        ),
        migrations.AlterField(
            model_name='trainingdiaforcedsource',
            name='diaobject',
            field=models.ForeignKey(db_column='diaobject_id', db_index=False,
                                    on_delete=django.db.models.deletion.CASCADE,
                                    related_name='diaforcedsources', to='elasticc2.trainingdiaobject'),
        ),
    ]
