"""Fill the two taxonomy tables from :mod:`desctom.elasticc2.taxonomy`."""

from django.db import migrations


def fill(apps, schema_editor):
    from desctom.elasticc2 import taxonomy

    gentypeofclassid = apps.get_model("elasticc2", "GentypeOfClassId")
    classidofgentype = apps.get_model("elasticc2", "ClassIdOfGentype")
    gentypeofclassid.objects.bulk_create(gentypeofclassid(**row) for row in taxonomy.gentype_of_classid_rows())
    classidofgentype.objects.bulk_create(classidofgentype(**row) for row in taxonomy.classid_of_gentype_rows())


def empty(apps, schema_editor):
    apps.get_model("elasticc2", "GentypeOfClassId").objects.all().delete()
    apps.get_model("elasticc2", "ClassIdOfGentype").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("elasticc2", "0001_initial")]
    operations = [migrations.RunPython(fill, empty)]
