"""Which objects are simulated: the ELAsTiCC2 gentypes, their mix, and each object's model parameters.

Every gentype of :data:`desctom.survey.taxonomy.GENTYPES_OF_LEAF` belongs to one light-curve
*kind*. Explosive transients (SNe, kilonovae, SLSNe, TDEs, ...) share one model, a rise-and-decline
profile with a cooling blackbody, and differ only in parameters; the galactic and recurring kinds
have models of their own (see :mod:`.lightcurves`).
"""

from __future__ import annotations

import numpy as np

from desctom.elasticc2.loaders.synth.physics import distance_modulus
from desctom.survey import taxonomy

# Light-curve kinds.
BURST, FLARE, NOVA, LENS, PULSE, ECLIPSE, AGN = range(7)
KIND_NAMES = ("burst", "flare", "dwarf nova", "microlensing", "pulsator", "eclipsing binary", "agn")
#: Kinds whose event time may be moved onto an observed epoch (see :mod:`.photometry`).
ANCHORED_KINDS = (BURST, FLARE, NOVA, LENS)
#: Number of flare slots per flaring star.
FLARE_SLOTS = 8

# gentype: (weight, M_peak, M_sd, tau_rise, tau_fall, T_peak, T_end, tau_T, uv_cut_nm, z_max, templates,
#           hostless fraction). Times in rest-frame days, temperatures in K, M at ~620 nm (AB).
BURSTS = {
    10: (0.200, -19.3, 0.15, 3.5, 20, 11000, 5500, 25, 380, 1.00, 0, 0.01),    # SN Ia (SALT2)
    11: (0.010, -17.8, 0.40, 2.5, 13, 9000, 4500, 15, 400, 0.35, 30, 0.01),    # SN Ia-91bg
    12: (0.020, -17.0, 0.70, 2.5, 15, 9500, 5000, 15, 380, 0.40, 30, 0.01),    # SN Iax
    20: (0.015, -17.3, 0.70, 3.0, 18, 9000, 5000, 20, 380, 0.50, 40, 0.01),    # SN Ib templates
    21: (0.010, -17.3, 0.70, 3.0, 18, 9000, 5000, 20, 380, 0.50, 40, 0.01),    # SN Ib + HostXT
    25: (0.015, -17.3, 0.70, 3.0, 17, 8500, 5000, 20, 380, 0.50, 40, 0.01),    # SN Ic templates
    26: (0.010, -17.3, 0.70, 3.0, 17, 8500, 5000, 20, 380, 0.50, 40, 0.01),    # SN Ic + HostXT
    27: (0.010, -18.3, 0.60, 2.5, 15, 10000, 5500, 15, 380, 0.60, 20, 0.01),   # SN Ic-BL
    30: (0.050, -16.8, 0.90, 3.0, 70, 14000, 5500, 15, 300, 0.40, 60, 0.01),   # SN II (NMF)
    31: (0.040, -16.6, 0.90, 3.0, 70, 14000, 5500, 15, 300, 0.40, 60, 0.01),   # SN II templates
    32: (0.030, -16.8, 0.90, 3.0, 70, 14000, 5500, 15, 300, 0.40, 60, 0.01),   # SN II + HostXT
    35: (0.020, -18.5, 1.00, 8.0, 90, 12000, 7000, 60, 300, 0.90, 40, 0.01),   # SN IIn (MOSFiT)
    36: (0.010, -18.3, 1.00, 8.0, 90, 12000, 7000, 60, 300, 0.90, 40, 0.01),   # SN IIn + HostXT
    37: (0.015, -17.0, 0.60, 3.0, 30, 10000, 5000, 20, 350, 0.45, 40, 0.01),   # SN IIb
    40: (0.020, -21.0, 0.70, 12.0, 50, 15000, 8000, 60, 250, 2.50, 100, 0.20),  # SLSN-I
    42: (0.010, -19.5, 0.70, 10.0, 50, 30000, 22000, 200, 0, 1.00, 50, 0.01),  # TDE
    45: (0.005, -13.0, 1.00, 5.0, 40, 7000, 4000, 40, 350, 0.06, 30, 0.01),    # ILOT
    46: (0.005, -16.0, 0.70, 8.0, 50, 9000, 6000, 40, 350, 0.25, 30, 0.01),    # CART
    50: (0.002, -15.8, 0.70, 0.3, 1.5, 6000, 1800, 2, 350, 0.15, 300, 0.01),   # KN (K17)
    51: (0.002, -15.5, 0.70, 0.3, 1.8, 5500, 1800, 2, 350, 0.15, 300, 0.01),   # KN (B19)
    59: (0.003, -19.5, 1.00, 40.0, 150, 9000, 5000, 100, 300, 2.00, 30, 0.01),  # PISN
}
# gentype: (kind, weight, mean r mag range, absolute r mag (for mu), star temperature range (K))
OTHERS = {
    82: (FLARE, 0.050, (17.0, 23.5), 11.0, (2800, 3600)),    # M-dwarf flare
    84: (NOVA, 0.030, (19.0, 24.0), 8.0, (6000, 9000)),      # dwarf nova
    87: (LENS, 0.004, (18.0, 23.0), 3.0, (4000, 7000)),      # microlensing, single lens (PyLIMA)
    88: (LENS, 0.004, (18.0, 23.0), 3.0, (4000, 7000)),      # microlensing, single lens (GenLens)
    89: (LENS, 0.002, (18.0, 23.0), 3.0, (4000, 7000)),      # microlensing, binary lens
    90: (PULSE, 0.010, (15.0, 21.0), None, (5500, 6500)),    # Cepheid
    80: (PULSE, 0.080, (15.0, 21.5), 0.6, (6500, 7500)),     # RR Lyrae
    91: (PULSE, 0.030, (15.0, 21.0), 2.0, (7000, 8500)),     # delta Scuti
    83: (ECLIPSE, 0.100, (14.5, 21.5), 4.0, (4500, 9000)),   # eclipsing binary
    60: (AGN, 0.150, (18.5, 23.0), None, None),              # AGN
}
GALACTIC_GENTYPES = frozenset(g for g, spec in OTHERS.items() if spec[0] != AGN)


def _check_catalogue() -> None:
    simulated = {g for gentypes in taxonomy.GENTYPES_OF_LEAF.values() for g in gentypes}
    ours = set(BURSTS) | set(OTHERS)
    if ours != simulated:
        raise RuntimeError(f"synth gentypes {sorted(ours)} differ from the taxonomy's {sorted(simulated)}")


_check_catalogue()
GENTYPES = np.array(sorted(set(BURSTS) | set(OTHERS)))
WEIGHTS = np.array([BURSTS[g][0] if g in BURSTS else OTHERS[g][1] for g in GENTYPES])
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def kind_of(gentype: int) -> int:
    """The light-curve kind of a gentype."""
    return BURST if gentype in BURSTS else OTHERS[gentype][0]


def _loguniform(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _number_counts(rng, lo, hi, n, slope=0.3):
    """Magnitudes in [lo, hi] with dN/dm ~ 10**(slope * m): faint sources are the many."""
    span = 10 ** (-slope * (hi - lo))
    return hi + np.log10(span + rng.random(n) * (1 - span)) / slope


def draw(rng: np.random.Generator, n: int, start_mjd: float, end_mjd: float) -> dict[str, np.ndarray]:
    """Gentypes and light-curve parameters of ``n`` objects (arrays of length n; unused entries NaN)."""
    gentype = GENTYPES[rng.choice(len(GENTYPES), size=n, p=WEIGHTS)]
    nan = np.full(n, np.nan)
    p = {"gentype": gentype.astype(np.int32), "kind": np.array([kind_of(g) for g in gentype], np.int8),
         "galactic": np.isin(gentype, list(GALACTIC_GENTYPES)), "template": np.zeros(n, np.int32),
         "z": np.zeros(n), "mu": nan.copy(), "av": np.zeros(n), "hostless": np.zeros(n, bool),
         "t_event": nan.copy()}
    for key in ("m_peak", "tau_rise", "tau_fall", "t_hot", "t_cool", "tau_t", "uv_cut", "m_base",
                "t_star", "period", "amp", "shape", "u0", "t_e", "depth1", "depth2", "width", "ellips",
                "caustic_dt", "caustic_amp", "caustic_width", "rise", "decay", "sf", "tau_drw"):
        p[key] = nan.copy()
    p["flare_t"] = np.full((n, FLARE_SLOTS), np.nan)
    p["flare_amp"] = np.zeros((n, FLARE_SLOTS))
    p["flare_tau"] = np.ones((n, FLARE_SLOTS))
    for g in GENTYPES:
        idx = np.flatnonzero(gentype == g)
        if len(idx):
            (_draw_burst if g in BURSTS else _draw_other)(rng, p, idx, int(g), start_mjd, end_mjd)
    return p


def _draw_burst(rng, p, idx, g, start, end):
    (_, m_peak, m_sd, tau_rise, tau_fall, t_hot, t_cool, tau_t, uv_cut, z_max, templates,
     hostless) = BURSTS[g]
    k = len(idx)
    p["m_peak"][idx] = rng.normal(m_peak, m_sd, k)
    p["tau_rise"][idx] = tau_rise * rng.lognormal(0, 0.15, k)
    p["tau_fall"][idx] = np.maximum(tau_fall * rng.lognormal(0, 0.15, k), 2 * p["tau_rise"][idx])
    p["t_hot"][idx] = t_hot * rng.uniform(0.9, 1.1, k)
    p["t_cool"][idx] = t_cool * rng.uniform(0.9, 1.1, k)
    p["tau_t"][idx] = tau_t * rng.lognormal(0, 0.2, k)
    p["uv_cut"][idx] = uv_cut
    # Volume-weighted redshifts up to about the single-visit detection limit of the type.
    p["z"][idx] = np.maximum(z_max * rng.random(k) ** (1 / 2.5), 0.008)
    p["mu"][idx] = distance_modulus(p["z"][idx])
    p["av"][idx] = rng.exponential(0.25, k) if g not in (40, 42, 50, 51) else rng.exponential(0.05, k)
    p["hostless"][idx] = rng.random(k) < hostless
    p["template"][idx] = rng.integers(1, templates + 1, k) if templates else 0
    p["t_event"][idx] = rng.uniform(start - 60, end + 30, k)  # time of peak brightness


def _draw_other(rng, p, idx, g, start, end):
    kind, _, (m_lo, m_hi), m_abs, temps = OTHERS[g]
    k = len(idx)
    p["m_base"][idx] = _number_counts(rng, m_lo, m_hi, k)
    p["template"][idx] = rng.integers(1, 51, k)
    if temps is not None:
        p["t_star"][idx] = rng.uniform(*temps, k)
    if kind == FLARE:
        count = np.minimum(1 + rng.poisson(rng.uniform(1, 6, k) * (end - start) / 365.25), FLARE_SLOTS)
        times = rng.uniform(start, end, (k, FLARE_SLOTS))
        times[np.arange(FLARE_SLOTS)[None, :] >= count[:, None]] = np.nan
        p["flare_t"][idx] = times
        p["flare_amp"][idx] = _loguniform(rng, 0.5, 50, k * FLARE_SLOTS).reshape(k, FLARE_SLOTS)
        p["flare_tau"][idx] = _loguniform(rng, 0.01, 0.2, k * FLARE_SLOTS).reshape(k, FLARE_SLOTS)
        p["rise"][idx] = rng.uniform(0.003, 0.02, k)
        p["t_event"][idx] = times[:, 0]
    elif kind == NOVA:
        p["amp"][idx] = rng.uniform(2.0, 5.0, k)  # outburst amplitude (mag, g)
        p["period"][idx] = _loguniform(rng, 20, 200, k)
        p["decay"][idx] = rng.uniform(2, 6, k)
        p["rise"][idx] = rng.uniform(0.5, 1.5, k)
        p["shape"][idx] = rng.uniform(0, 2 * np.pi, k)  # phase of the recurrence jitter
        p["t_event"][idx] = start + rng.uniform(0, 1, k) * p["period"][idx]
    elif kind == LENS:
        p["u0"][idx] = _loguniform(rng, 0.02, 1.0, k)
        p["t_e"][idx] = _loguniform(rng, *{87: (10, 60), 88: (5, 150), 89: (15, 100)}[g], k)
        p["amp"][idx] = rng.uniform(0.3, 1.0, k)  # fraction of the baseline light from the lensed star
        p["t_event"][idx] = rng.uniform(start - 30, end + 30, k)
        if g == 89:  # a caustic crossing: a short, sharp second peak
            p["caustic_dt"][idx] = rng.uniform(-1, 1, k) * p["t_e"][idx]
            p["caustic_amp"][idx] = rng.uniform(5, 20, k)
            p["caustic_width"][idx] = rng.uniform(0.02, 0.1, k) * p["t_e"][idx]
    elif kind == PULSE:
        if g == 90:
            p["period"][idx] = _loguniform(rng, 3, 60, k)
            p["amp"][idx], p["shape"][idx] = rng.uniform(0.4, 1.0, k), 1.0
        elif g == 80:
            p["period"][idx] = rng.uniform(0.45, 0.8, k)
            p["amp"][idx], p["shape"][idx] = rng.uniform(0.5, 1.1, k), 1.0
        else:
            p["period"][idx] = _loguniform(rng, 0.03, 0.25, k)
            p["amp"][idx], p["shape"][idx] = _loguniform(rng, 0.05, 0.6, k), 0.2
        p["t_event"][idx] = start + rng.uniform(0, 1, k) * p["period"][idx]
    elif kind == ECLIPSE:
        p["period"][idx] = _loguniform(rng, 0.3, 20, k)
        p["depth1"][idx] = rng.uniform(0.1, 0.7, k)
        p["depth2"][idx] = p["depth1"][idx] * rng.uniform(0.05, 0.9, k)
        p["width"][idx] = rng.uniform(0.015, 0.08, k)
        p["ellips"][idx] = np.where(p["period"][idx] < 2, rng.uniform(0, 0.05, k), 0.0)
        p["t_event"][idx] = start + rng.uniform(0, 1, k) * p["period"][idx]
    elif kind == AGN:
        p["z"][idx] = 0.1 + 2.9 * rng.beta(2.0, 4.0, k)
        p["mu"][idx] = distance_modulus(p["z"][idx])
        p["sf"][idx] = rng.uniform(0.1, 0.35, k)
        p["tau_drw"][idx] = _loguniform(rng, 50, 500, k) * (1 + p["z"][idx])
        p["t_event"][idx] = start
    if kind != AGN:
        if g == 90:  # Cepheid period-luminosity relation
            m_abs = -2.43 * (np.log10(p["period"][idx]) - 1) - 4.05
        p["mu"][idx] = p["m_base"][idx] - m_abs
