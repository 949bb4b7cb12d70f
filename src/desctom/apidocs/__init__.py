"""OpenAPI description of the DESC TOM JSON API: ``/api/schema/`` (YAML/JSON) and ``/api/docs/`` (Swagger UI).

drf-spectacular describes the DRF views; the plain Django JSON views are described by the
declarative registry in :mod:`desctom.apidocs.groups` and merged in by :mod:`desctom.apidocs.hook`.
"""
