"""Tables of the live survey (table names follow FASTDB's, so its users' SQL reads them)."""

from desctom.live.models.auth import FastdbUserKey
from desctom.live.models.photometry import DiaForcedSource, DiaObject, DiaSource, RootDiaObject
from desctom.live.models.provenance import BrokerInfo, LiveClassifier, StreamSchema
from desctom.live.models.spectra import PlannedSpectra, SpectrumInfo, WantedSpectra

__all__ = ["FastdbUserKey", "RootDiaObject", "DiaObject", "DiaSource", "DiaForcedSource", "BrokerInfo",
           "LiveClassifier", "StreamSchema", "WantedSpectra", "PlannedSpectra", "SpectrumInfo"]
