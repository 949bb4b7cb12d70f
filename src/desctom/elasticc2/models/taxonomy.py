"""The ELAsTiCC2 taxonomy tables (reference §2.2.3), filled by a data migration."""

from django.db import models


class GentypeOfClassId(models.Model):
    """Given an SNANA gentype, the exact classId that is right (NULL gentype: a node with no model)."""

    classid = models.IntegerField(db_index=True)
    gentype = models.IntegerField(null=True, unique=True)
    description = models.TextField()


class ClassIdOfGentype(models.Model):
    """Given a broker's classId, which gentypes it matches, and how closely."""

    gentype = models.IntegerField(db_index=True)
    classid = models.IntegerField(db_index=True)
    exactmatch = models.BooleanField(default=False)
    categorymatch = models.BooleanField(default=False)
    generalmatch = models.BooleanField(default=False)
    broadmatch = models.BooleanField(default=False)
    description = models.TextField()
