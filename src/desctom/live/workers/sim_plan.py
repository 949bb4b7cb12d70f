"""The plan of a simulated live stream: which detections become alerts, which brokers classify them,
in which night and order every message goes out, and the truth about the hard cases.

Everything random is drawn here, from the simulator's seed, before any Avro is written; the
light curves are the synthetic survey's (:mod:`desctom.elasticc2.loaders.synth`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desctom.elasticc2.loaders.synth.spec import ID_MULTIPLIER
from desctom.live.workers.sim_types import FakeClassifier, SimulatorError, Truth
from desctom.survey.lsst import BANDS
from desctom.survey.taxonomy import GENTYPES_OF_LEAF, SIMULATED_LEAF_CLASSES, leaf_of_gentype

#: Chunks of the synthetic survey tried before giving up on finding enough live objects.
MAX_CHUNKS = 10_000
#: A twin's diaObjectId is its object's plus this (its forced sources: twin id * 100000 + k).
TWIN_OFFSET = 10_000_000_000
#: Previous detections and forced sources older than this (days) are not sent.
HISTORY_WINDOW = 365.0
RESIDUAL = 200
ARCSEC = 1.0 / 3600.0
_BAND_INDEX = {b: i for i, b in enumerate(BANDS)}


@dataclass
class Emission:
    """One message to send: the alert it is about, the classifier (None: the bare alert)."""

    alert: int
    classifier: int | None
    late: bool = False


class Plan:
    """Columns of every detection and forced source involved, the alerts and the emission order.

    ``s_*``: detections (history and live), ordered by (diaObjectId, time), ``s_seg[oid]`` their row
    range per object; ``f_*``: forced photometry, likewise with ``f_seg``; ``a_*``: the alerts (live
    detections in time order): ``a_src`` the detection row, ``a_night`` its night, ``a_prv_lo`` /
    ``a_forced_lo..a_forced_hi`` the rows of the history it carries; ``emission[night]``: the
    :class:`Emission` s of that night in sending order; ``twins``: (diaObjectId, twin id) pairs.
    """

    band_names = ("u", "g", "r", "i", "z", "y")

    def source_row(self, i: int) -> dict:
        """A detection's values, as Python scalars, for :func:`sim_records.source_record`."""
        return {"id": int(self.s_id[i]), "obj": int(self.s_obj[i]), "t": float(self.s_t[i]),
                "band": self.band_names[self.s_band[i]], "flux": float(self.s_flux[i]),
                "err": float(self.s_err[i]), "snr": float(self.s_snr[i]), "ra": float(self.s_ra[i]),
                "dec": float(self.s_dec[i]), "visit": int(self.s_visit[i]), "detector": int(self.s_det[i]),
                "x": float(self.s_x[i]), "y": float(self.s_y[i]), "template": float(self.s_template[i]),
                "reliability": float(self.s_rel[i]), "extendedness": float(self.s_ext[i]),
                "psfchi2": float(self.s_chi2[i]), "processed": float(self.s_processed[i]),
                "bbox": int(self.s_bbox[i])}

    def forced_row(self, j: int) -> dict:
        oid = int(self.f_obj[j])
        ra, dec = self.obj_pos[oid]
        return {"id": int(self.f_id[j]), "obj": oid, "ra": ra, "dec": dec, "visit": int(self.f_visit[j]),
                "detector": int(self.f_det[j]), "flux": float(self.f_flux[j]), "err": float(self.f_err[j]),
                "t": float(self.f_t[j]), "template": float(self.f_template[j]),
                "band": self.band_names[self.f_band[j]], "processed": float(self.f_processed[j])}

    def prv_sources(self, a: int) -> range:
        """Rows of the detections alert ``a`` carries: the object's previous ones of the last 365 days
        (at most ``max_prv_sources``, the most recent)."""
        return range(int(self.a_prv_lo[a]), int(self.a_src[a]))

    def prv_forced(self, a: int) -> range:
        """Rows of the forced photometry alert ``a`` carries (previous 365 days, at most
        ``max_prv_forced``, the most recent)."""
        return range(int(self.a_forced_lo[a]), int(self.a_forced_hi[a]))

    def running_extremes(self, band: int) -> tuple[np.ndarray, np.ndarray]:
        """Per detection row: the lowest and highest flux of the object in ``band`` so far (inf if none)."""
        cache = self.__dict__.setdefault("_extremes", {})
        if band not in cache:
            x = np.where(self.s_band == band, self.s_flux, np.inf)
            y = np.where(self.s_band == band, self.s_flux, -np.inf)
            low, high = np.empty_like(x), np.empty_like(y)
            for lo, hi in self.s_seg.values():
                low[lo:hi] = np.minimum.accumulate(x[lo:hi])
                high[lo:hi] = np.maximum.accumulate(y[lo:hi])
            cache[band] = (low, high)
        return cache[band]

    def classifications(self, a: int, ci: int, c: FakeClassifier) -> list[tuple[int, float]]:
        """The fake classifier ``c``'s answer for alert ``a``: its top class is the truth with
        probability ``c.accuracy``; two more classes share part of the rest; class 200 (Residual)
        takes what does not sum to 1."""
        u = self.cls_u[a, ci]
        truth = self.true_class[int(self.s_obj[self.a_src[a]])]
        leaves = SIMULATED_LEAF_CLASSES
        top = truth if u[0] < c.accuracy else leaves[int(u[1] * len(leaves))]
        others = [x for x in leaves if x != top]
        first = others.pop(int(u[2] * len(others)))
        second = others[int(u[3] * len(others))]
        p_top = 0.45 + 0.45 * u[4]
        rest = (1.0 - p_top) * (0.5 + 0.45 * u[5])
        pairs = [(int(top), float(np.float32(p_top))), (int(first), float(np.float32(rest * u[6]))),
                 (int(second), float(np.float32(rest * (1.0 - u[6]))))]
        pairs.append((RESIDUAL, float(np.float32(1.0 - sum(p for _, p in pairs)))))
        return pairs

    def truth(self, sim) -> Truth:
        by_classifier = {c.key: [] for c in sim.classifiers}
        alerts_sent, late, out_of_order = [], [], 0
        per_source: dict[int, set] = {}
        for night in range(sim.nights):
            latest = -np.inf
            for m in self.emission[night]:
                i = self.a_src[m.alert]
                sid, t = int(self.s_id[i]), float(self.s_t[i])
                out_of_order += t < latest
                latest = max(latest, t)
                if m.late:
                    late.append((sid, None if m.classifier is None else sim.classifiers[m.classifier].broker))
                if m.classifier is None:
                    alerts_sent.append(m.alert)
                else:
                    by_classifier[sim.classifiers[m.classifier].key].append(sid)
                    per_source.setdefault(sid, set()).add(m.classifier)
        every = range(len(self.a_src))
        prv, forced = set(), set()
        for a in every:
            prv.update(self.s_id[self.a_prv_lo[a]:self.a_src[a]].tolist())
            forced.update(self.f_id[self.a_forced_lo[a]:self.a_forced_hi[a]].tolist())
        objects = {int(self.s_obj[self.a_src[a]]) for a in every}
        rows = np.isin(self.s_id, np.fromiter(prv | {int(self.s_id[i]) for i in self.a_src}, np.int64))
        source_object = dict(zip(self.s_id[rows].tolist(), self.s_obj[rows].tolist(), strict=True))
        counts = {"alerts": len(alerts_sent), "brokermessages": sum(len(v) for v in by_classifier.values())}
        counts["messages"] = counts["alerts"] + counts["brokermessages"]
        return Truth(
            same_source=[p for p in self.twins if p[0] in objects and p[1] in objects],
            diaobject_ids=objects, diasource_ids={int(self.s_id[self.a_src[a]]) for a in every},
            prv_diasource_ids=prv, forced_source_ids=forced, messages_by_classifier=by_classifier,
            multi_broker_sources={s for s, cs in per_source.items() if len(cs) > 1}, late=late,
            out_of_order=int(out_of_order), versions={n: sim.version_of_night(n) for n in range(sim.nights)},
            physical_source={o: o % TWIN_OFFSET if o >= TWIN_OFFSET else o for o in objects},
            source_object=source_object, true_class={o: self.true_class[o] for o in objects},
            gentype={o: self.gentype[o] for o in objects},
            counts=counts)


def _pick_objects(sim, generator) -> tuple[dict, dict, dict]:
    """Sources, forced sources and truth of the first ``sim.objects`` objects with a live detection."""
    lo, hi = sim.live_start_mjd, sim.live_start_mjd + sim.nights
    parts: list[tuple[dict, dict, dict]] = []
    need = sim.objects
    for number in range(MAX_CHUNKS):
        chunk = generator.chunk(number)
        src = chunk.sources
        live = (src["midpointtai"] >= lo) & (src["midpointtai"] < hi)
        ids = np.unique(src["diaobject_id"][live])[:need]
        if len(ids):
            parts.append(tuple({k: v[np.isin(table["diaobject_id"], ids)] for k, v in table.items()
                                if k in keep} for table, keep in (
                (chunk.sources, ("diasource_id", "midpointtai", "filtername", "ra", "decl", "psflux",
                                 "psfluxerr", "snr", "diaobject_id")),
                (chunk.forced, ("diaforcedsource_id", "midpointtai", "filtername", "psflux", "psfluxerr",
                                "diaobject_id")),
                (chunk.truth, ("diaobject_id", "gentype")))))
            need -= len(ids)
        if need <= 0:
            break
    else:
        raise SimulatorError(f"only {sim.objects - need} objects have a detection in {sim.nights} nights "
                             f"from MJD {lo}: ask for fewer objects or more nights")
    return tuple({k: np.concatenate([p[n][k] for p in parts]) for k in parts[0][n]} for n in range(3))


def make_plan(sim, generator) -> Plan:
    """Choose objects, twins, alerts, brokers and the emission order for ``sim``."""
    src, forced, truth = _pick_objects(sim, generator)
    rng = np.random.default_rng([sim.seed, 20])
    cases = sim.hard_cases
    plan = Plan()
    plan.seed = sim.seed
    lo, hi = sim.live_start_mjd, sim.live_start_mjd + sim.nights

    obj_ids = truth["diaobject_id"].astype(np.int64)
    plan.gentype = {int(o): int(g) for o, g in zip(obj_ids, truth["gentype"], strict=True)}
    plan.true_class = {o: leaf_of_gentype(GENTYPES_OF_LEAF, g) or 2000 for o, g in plan.gentype.items()}
    first_pos = {}
    for o, ra, dec in zip(src["diaobject_id"], src["ra"], src["decl"], strict=True):
        first_pos.setdefault(int(o), (float(ra), float(dec)))
    plan.obj_pos = dict(first_pos)

    s_obj = src["diaobject_id"].astype(np.int64).copy()
    s_t = src["midpointtai"].astype(np.float64)
    f_cols = {k: v for k, v in forced.items()}
    plan.twins = []
    if cases.twins > 0:
        live = (s_t >= lo) & (s_t < hi)
        n_live = {int(o): int(c) for o, c in zip(*np.unique(s_obj[live], return_counts=True), strict=True)}
        eligible = sorted(o for o, c in n_live.items() if c >= 2)
        n_twins = min(len(eligible), max(1, round(cases.twins * len(obj_ids)))) if eligible else 0
        extra_forced = []
        for o in sorted(rng.choice(eligible, n_twins, replace=False).tolist()) if n_twins else []:
            twin = o + TWIN_OFFSET
            rows = np.flatnonzero(s_obj == o)
            is_live = live[rows]
            take = np.where(is_live, rng.random(len(rows)) < 0.5, rng.random(len(rows)) < 0.4)
            live_rows = np.flatnonzero(is_live)
            take[live_rows[0]], take[live_rows[-1]] = False, True   # both ids appear in the stream
            s_obj[rows[take]] = twin
            sep, angle = rng.uniform(0.05, 0.2) * ARCSEC, rng.uniform(0, 2 * np.pi)
            ra, dec = plan.obj_pos[o]
            plan.obj_pos[twin] = (ra + sep * np.cos(angle) / np.cos(np.radians(dec)),
                                  dec + sep * np.sin(angle))
            plan.gentype[twin], plan.true_class[twin] = plan.gentype[o], plan.true_class[o]
            plan.twins.append((o, twin))
            since = s_t[rows[take]].min() - 30.0
            frows = np.flatnonzero((forced["diaobject_id"] == o) & (forced["midpointtai"] >= since))
            extra_forced.append({k: v[frows] for k, v in forced.items()})
            extra_forced[-1]["diaobject_id"] = np.full(len(frows), twin, np.int64)
            extra_forced[-1]["diaforcedsource_id"] = (twin * ID_MULTIPLIER
                                                     + forced["diaforcedsource_id"][frows] % ID_MULTIPLIER)
        if extra_forced:
            f_cols = {k: np.concatenate([forced[k]] + [e[k] for e in extra_forced]) for k in forced}

    # Detections, ordered by (object, time).
    order = np.lexsort((s_t, s_obj))
    n = len(order)
    plan.s_id = src["diasource_id"].astype(np.int64)[order]
    plan.s_obj, plan.s_t = s_obj[order], s_t[order]
    plan.s_band = np.array([_BAND_INDEX[b] for b in src["filtername"][order]], np.int8)
    plan.s_flux = src["psflux"].astype(np.float64)[order]
    plan.s_err = src["psfluxerr"].astype(np.float64)[order]
    plan.s_snr = src["snr"].astype(np.float64)[order]
    pos = np.array([plan.obj_pos[int(o)] for o in plan.s_obj]).reshape(n, 2)
    jitter = rng.normal(0.0, 0.03 * ARCSEC, (n, 2))
    plan.s_ra = pos[:, 0] + jitter[:, 0] / np.cos(np.radians(pos[:, 1]))
    plan.s_dec = pos[:, 1] + jitter[:, 1]
    plan.s_visit, plan.s_det = _visits(plan.s_t), rng.integers(0, 189, n)
    plan.s_x, plan.s_y = rng.uniform(20, 4050, n), rng.uniform(20, 3980, n)
    base_template = {o: rng.lognormal(np.log(2000.0), 1.5) for o in sorted(set(obj_ids.tolist()))}
    templates = np.array([base_template[int(o) % TWIN_OFFSET] for o in plan.s_obj]).reshape(n)
    plan.s_template = templates * rng.uniform(0.7, 1.3, n)
    plan.s_rel = np.clip(1.0 - 0.5 * np.exp(-(plan.s_snr - 5.0) / 4.0) * rng.uniform(0.5, 1.5, n), 0.0, 1.0)
    plan.s_ext, plan.s_chi2 = rng.uniform(0.0, 1.0, n), 441.0 * rng.uniform(0.85, 1.3, n)
    plan.s_processed = plan.s_t + rng.uniform(40.0, 150.0, n) / 86400.0
    plan.s_bbox = np.clip(15 + 2 * np.sqrt(np.abs(plan.s_snr)), 15, 120).astype(int)
    plan.s_seg = _segments(plan.s_obj)
    plan.first_t = {o: float(plan.s_t[a]) for o, (a, _) in plan.s_seg.items()}

    # Forced photometry, ordered by (object, time), up to the end of the live nights.
    f_obj = f_cols["diaobject_id"].astype(np.int64)
    f_t = f_cols["midpointtai"].astype(np.float64)
    order = np.lexsort((f_t, f_obj))
    m = len(order)
    plan.f_id = f_cols["diaforcedsource_id"].astype(np.int64)[order]
    plan.f_obj, plan.f_t = f_obj[order], f_t[order]
    plan.f_band = np.array([_BAND_INDEX[b] for b in f_cols["filtername"][order]], np.int8)
    plan.f_flux = f_cols["psflux"].astype(np.float64)[order]
    plan.f_err = f_cols["psfluxerr"].astype(np.float64)[order]
    plan.f_visit, plan.f_det = _visits(plan.f_t), rng.integers(0, 189, m)
    plan.f_template = np.array([base_template[int(o) % TWIN_OFFSET] for o in plan.f_obj]).reshape(m)
    plan.f_processed = plan.f_t + rng.uniform(40.0, 150.0, m) / 86400.0
    plan.f_seg = _segments(plan.f_obj)

    # Alerts: live detections in time order; then the messages, night by night.
    live_rows = np.flatnonzero((plan.s_t >= lo) & (plan.s_t < hi))
    plan.a_src = live_rows[np.lexsort((plan.s_id[live_rows], plan.s_t[live_rows]))]
    plan.a_night = np.floor(plan.s_t[plan.a_src] - lo).astype(int)
    _history(plan, sim)
    _schedule(plan, sim, rng)
    return plan


def _history(plan: Plan, sim) -> None:
    """Row ranges of each alert's object, previous detections and previous forced photometry."""
    n_a = len(plan.a_src)
    plan.a_seg_lo = np.zeros(n_a, np.int64)
    plan.a_prv_lo = np.zeros(n_a, np.int64)
    plan.a_forced_lo = np.zeros(n_a, np.int64)
    plan.a_forced_hi = np.zeros(n_a, np.int64)
    for a, i in enumerate(plan.a_src.tolist()):
        oid, t = int(plan.s_obj[i]), plan.s_t[i]
        lo, _ = plan.s_seg[oid]
        plan.a_seg_lo[a] = lo
        first = lo + int(np.searchsorted(plan.s_t[lo:i], t - HISTORY_WINDOW, "left"))
        plan.a_prv_lo[a] = max(first, i - sim.max_prv_sources)
        flo, fhi = plan.f_seg.get(oid, (0, 0))
        seg = plan.f_t[flo:fhi]
        first = flo + int(np.searchsorted(seg, t - HISTORY_WINDOW, "left"))
        stop = flo + int(np.searchsorted(seg, t, "left"))
        plan.a_forced_lo[a], plan.a_forced_hi[a] = max(first, stop - sim.max_prv_forced), stop


def _segments(ids: np.ndarray) -> dict[int, tuple[int, int]]:
    uniq, starts, counts = np.unique(ids, return_index=True, return_counts=True)
    return {int(o): (int(s), int(s + c)) for o, s, c in zip(uniq, starts, counts, strict=True)}


def _visits(t: np.ndarray) -> np.ndarray:
    """LSST-style visit ids: the observing day (YYYYMMDD, UTC-12h) * 100000 + a 40-second sequence."""
    day = np.floor(t - 0.5)
    dates = (day - 40587).astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(int) + 1970
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    seq = ((t - 0.5 - day) * 86400.0 / 40.0).astype(np.int64)
    return (year * 10000 + month * 100 + dom).astype(np.int64) * 100000 + seq


def _schedule(plan: Plan, sim, rng: np.random.Generator) -> None:
    """Which classifiers answer each alert and in which night and order every message is sent."""
    cases, n_c, n_a = sim.hard_cases, len(sim.classifiers), len(plan.a_src)
    multi = rng.random(n_a) < cases.multi_broker if n_c > 1 else np.zeros(n_a, bool)
    single = rng.integers(0, n_c, n_a)
    plan.cls_u = rng.random((n_a, n_c, 7))
    keyed: list[list[tuple[float, Emission]]] = [[] for _ in range(sim.nights)]
    position = 0
    for a in range(n_a):
        night = int(plan.a_night[a])
        wanted = ([None] if sim.alerts else []) + (list(range(n_c)) if multi[a] else [int(single[a])])
        for ci in wanted:
            position += 1
            late = cases.late > 0 and rng.random() < cases.late and night + 1 < sim.nights
            if late:
                keyed[night + 1].append((-1.0, Emission(a, ci, True)))   # placed below
                continue
            key = float(position)
            if cases.out_of_order > 0 and rng.random() < cases.out_of_order:
                key += rng.uniform(1.5, 60.0)
            keyed[night].append((key, Emission(a, ci)))
    plan.emission = []
    plan.last_night = np.zeros(n_a, int)
    for night, items in enumerate(keyed):
        normal = [k for k, _ in items if k >= 0]
        low, high = (min(normal), max(normal)) if normal else (0.0, 1.0)
        items = [(k if k >= 0 else rng.uniform(low, high), e) for k, e in items]
        items.sort(key=lambda ke: ke[0])
        plan.emission.append([e for _, e in items])
        for _, e in items:
            plan.last_night[e.alert] = night
