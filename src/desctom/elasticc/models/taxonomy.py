"""The ELAsTiCC 1 taxonomy tables (reference §2.4; class ids of 1-3 digits)."""

from django.db import models


class GentypeOfClassId(models.Model):
    """Given an SNANA gentype, the exact classId (NULL gentype: a node with no model)."""

    classId = models.IntegerField(db_index=True)
    gentype = models.IntegerField(null=True, unique=True)
    description = models.TextField()


class ClassIdOfGentype(models.Model):
    """Given a broker's classId, which gentypes it matches, exactly or by category."""

    classId = models.IntegerField(db_index=True)
    gentype = models.IntegerField(db_index=True)
    description = models.TextField()
    exactmatch = models.BooleanField(default=False)
    categorymatch = models.BooleanField(default=False)
