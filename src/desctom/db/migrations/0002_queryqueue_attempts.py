from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("db", "0001_queryqueue"),
    ]

    operations = [
        migrations.AddField(
            model_name="queryqueue",
            name="attempts",
            field=models.IntegerField(db_default=0, default=0),
        ),
    ]
