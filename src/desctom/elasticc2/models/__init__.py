"""ELAsTiCC2 tables. Every table and column name is part of the public contract (SQL API users)."""

from desctom.elasticc2.models.brokers import (
    BrokerClassifier,
    BrokerMessage,
    BrokerSourceIds,
    ImportPPDBRunning,
)
from desctom.elasticc2.models.photometry import (
    DiaForcedSource,
    DiaObject,
    DiaObjectTruth,
    DiaSource,
    PPDBAlert,
    PPDBDiaForcedSource,
    PPDBDiaObject,
    PPDBDiaSource,
    TrainingAlert,
    TrainingDiaForcedSource,
    TrainingDiaObject,
    TrainingDiaObjectTruth,
    TrainingDiaSource,
)
from desctom.elasticc2.models.spectra import PlannedSpectra, SpectrumInfo, WantedSpectra
from desctom.elasticc2.models.streaming import AlertSenderRun, BrokerMessageQuarantine, BrokerPollerStatus
from desctom.elasticc2.models.summary import (
    DiaObjectClassification,
    DiaObjectConsensus,
    DiaObjectConsensusAsOf,
    DiaObjectInfo,
    DiaObjectLatestClassification,
    DiaObjectOfTarget,
    DiaObjectPackedPhotometry,
    DiaSourceLatestClassification,
)
from desctom.elasticc2.models.taxonomy import ClassIdOfGentype, GentypeOfClassId

__all__ = [
    "BrokerClassifier", "BrokerMessage", "BrokerSourceIds", "ImportPPDBRunning",
    "DiaForcedSource", "DiaObject", "DiaObjectTruth", "DiaSource", "PPDBAlert", "PPDBDiaForcedSource",
    "PPDBDiaObject", "PPDBDiaSource", "TrainingAlert", "TrainingDiaForcedSource", "TrainingDiaObject",
    "TrainingDiaObjectTruth", "TrainingDiaSource",
    "AlertSenderRun", "BrokerMessageQuarantine", "BrokerPollerStatus",
    "PlannedSpectra", "SpectrumInfo", "WantedSpectra",
    "DiaObjectClassification", "DiaObjectConsensus", "DiaObjectConsensusAsOf", "DiaObjectInfo",
    "DiaObjectLatestClassification",
    "DiaObjectOfTarget", "DiaObjectPackedPhotometry", "DiaSourceLatestClassification",
    "ClassIdOfGentype", "GentypeOfClassId",
]
