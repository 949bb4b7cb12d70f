"""LSST facts every part of DESC TOM uses: the bands and the flux zeropoint."""

from __future__ import annotations

#: LSST bands as the photometry names them (``filtername``; SNANA writes ``Y``), in wavelength order.
BANDS = ("u", "g", "r", "i", "z", "Y")
#: Stored fluxes are on this AB zeropoint: 31.4 means nJy.
ZEROPOINT = 31.4
