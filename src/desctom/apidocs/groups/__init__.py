"""One module per API group, each with ``TAG`` and ``ENDPOINTS`` (a list of registry Endpoints)."""

from desctom.apidocs.groups import (
    accounts,
    db,
    elasticc,
    elasticc2_brokers,
    elasticc2_data,
    elasticc2_followup,
)

GROUPS = (accounts, elasticc2_data, elasticc2_brokers, elasticc2_followup, db, elasticc)
