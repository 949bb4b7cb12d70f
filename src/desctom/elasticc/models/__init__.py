"""ELAsTiCC 1 tables (``elasticc_*``). Table and column names are part of the public contract."""

from desctom.elasticc.models.brokers import (
    BrokerClassification,
    BrokerClassifier,
    BrokerMessage,
    ElasticcPermissions,
)
from desctom.elasticc.models.photometry import (
    DiaAlert,
    DiaForcedSource,
    DiaObject,
    DiaObjectTruth,
    DiaSource,
    DiaTruth,
)
from desctom.elasticc.models.taxonomy import ClassIdOfGentype, GentypeOfClassId

__all__ = [
    "BrokerClassification", "BrokerClassifier", "BrokerMessage", "ElasticcPermissions",
    "DiaAlert", "DiaForcedSource", "DiaObject", "DiaObjectTruth", "DiaSource", "DiaTruth",
    "ClassIdOfGentype", "GentypeOfClassId",
]
