"""Fill the two taxonomy tables from :mod:`desctom.survey.taxonomy`."""

from django.db import migrations


def fill(apps, schema_editor):
    from desctom.survey import taxonomy

    taxonomy.fill_tables(apps.get_model("elasticc2", "GentypeOfClassId"),
                         apps.get_model("elasticc2", "ClassIdOfGentype"))


def empty(apps, schema_editor):
    apps.get_model("elasticc2", "GentypeOfClassId").objects.all().delete()
    apps.get_model("elasticc2", "ClassIdOfGentype").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("elasticc2", "0001_initial")]
    operations = [migrations.RunPython(fill, empty)]
