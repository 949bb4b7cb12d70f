"""Column types the ELAsTiCC2 schema needs beyond Django's own."""

from django.db import models


class Float32Field(models.FloatField):
    """A PostgreSQL ``real`` (float4) column: the original schema stores most floats this way."""

    def db_type(self, connection):
        return "real"
