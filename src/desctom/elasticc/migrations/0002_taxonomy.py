"""Fill the two taxonomy tables from :mod:`desctom.elasticc.models.taxonomy_tree`."""

from django.db import migrations


def fill(apps, schema_editor):
    from desctom.elasticc.models import taxonomy_tree as taxonomy

    taxonomy.fill_tables(apps.get_model("elasticc", "GentypeOfClassId"),
                         apps.get_model("elasticc", "ClassIdOfGentype"))


def empty(apps, schema_editor):
    apps.get_model("elasticc", "GentypeOfClassId").objects.all().delete()
    apps.get_model("elasticc", "ClassIdOfGentype").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("elasticc", "0001_initial")]
    operations = [migrations.RunPython(fill, empty)]
