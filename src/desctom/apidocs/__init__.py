"""OpenAPI description of the DESC TOM JSON API: ``/api/schema/`` (YAML/JSON) and ``/api/docs/`` (Swagger UI).

drf-spectacular describes the DRF views; the plain Django JSON views carry their contract
(``api_doc``: request fields that also check the input, operations, answers), which
:mod:`desctom.apidocs.contracts` describes and :mod:`desctom.apidocs.hook` merges in.
"""
