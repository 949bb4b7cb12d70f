"""Object pages: search (id, cone), one object (light curve, classifications, spectra), make a TOM target."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from guardian.shortcuts import assign_perm
from tom_targets.models import Target, TargetExtra

from desctom.core.jsonapi import finite_or_none
from desctom.elasticc2.http.pages.common import class_name
from desctom.elasticc2.http.pages.front import Elasticc2Page
from desctom.elasticc2.models import DiaObject, DiaObjectOfTarget
from desctom.elasticc2.queries import objects as object_queries
from desctom.elasticc2.queries import sky
from desctom.elasticc2.queries.classifiers import registry_rows
from desctom.elasticc2.queries.followup import best_knowledge
from desctom.survey.lsst import BANDS, ZEROPOINT

#: At most this many broker messages are read for one object's page.
MAX_MESSAGES = 5000
#: Classes plotted per classifier in probability vs time.
LEADING = 3
CONE_LIMIT = 100


def _float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


class ObjectSearchView(Elasticc2Page):
    """``/elasticc2/objects/``: go to an object by id, or list known objects in a cone."""

    template_name = "elasticc2/objects.html"

    def get(self, request, *args, **kwargs):
        objectid = request.GET.get("objectid", "").strip()
        if objectid:
            if objectid.isdigit():
                return redirect("elasticc2:object", objectid=int(objectid))
            messages.error(request, f"Not an object id: {objectid!r}")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET
        ra, dec, radius = _float(q.get("ra")), _float(q.get("dec")), _float(q.get("radius"))
        context.update(ra=q.get("ra", ""), dec=q.get("dec", ""), radius=q.get("radius", "10"))
        if ra is None and dec is None:
            return context
        if ra is None or dec is None or radius is None or not (0 <= ra <= 360 and -90 <= dec <= 90
                                                              and 0 < radius <= 3600):
            context["cone_error"] = ("Give RA in [0, 360], Dec in [-90, 90] (degrees), "
                                     "radius in (0, 3600] arcsec.")
            return context
        found = sky.cone_search("diaobject", ra % 360.0, dec, radius / 3600.0, CONE_LIMIT,
                                columns="diaobject_id, ra, decl")
        for row in found:
            row["distance_arcsec"] = row.pop("distance_deg") * 3600.0
        context.update(found=found, searched=True, limit=CONE_LIMIT)
        return context


def light_curve(objectid: int) -> dict:
    """Forced photometry and detections of a known object, per band, as plot data (fluxes in nJy)."""
    forced, detections = object_queries.photometry(objectid)

    def per_band(points):
        bands = defaultdict(lambda: {"mjd": [], "flux": [], "fluxerr": []})
        for mjd, band, flux, err, *_ in points:
            b = bands[band]
            b["mjd"].append(mjd)
            b["flux"].append(flux)
            b["fluxerr"].append(err)
        order = {b: i for i, b in enumerate(BANDS)}
        return dict(sorted(bands.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))

    return finite_or_none({"zp": ZEROPOINT, "forced": per_band(forced), "detections": per_band(detections),
                           "n_forced": len(forced), "n_detections": len(detections)})


def classifications(objectid: int) -> list[dict]:
    """Per classifier: its messages about the object's detections over time, top classes of each."""
    messages_ = object_queries.broker_messages(objectid, MAX_MESSAGES)
    if not messages_:
        return []
    registry = registry_rows(m["classifier_id"] for m in messages_)
    by_classifier = defaultdict(list)
    for m in messages_:
        probs = sorted(zip(m["classid"], m["probability"], strict=False), key=lambda cp: (-cp[1], cp[0]))
        m["top"] = [(class_name(c), p) for c, p in probs[:3]]
        m["probs"] = dict(zip(m["classid"], m["probability"], strict=False))
        by_classifier[m["classifier_id"]].append(m)
    result = []
    for cid, msgs in by_classifier.items():
        latest = msgs[-1]
        leading = sorted(latest["probs"], key=lambda c: (-latest["probs"][c], c))[:LEADING]
        traces = [{"name": class_name(c), "mjd": [m["mjd"] for m in msgs],
                   "prob": [m["probs"].get(c, 0.0) for m in msgs]} for c in leading]
        info = registry.get(cid, {})
        label = " ".join(str(info.get(k) or "") for k in ("brokername", "brokerversion", "classifiername",
                                                           "classifierparams")).strip()
        result.append({"classifier_id": cid, "label": label or f"classifier {cid}", "messages": msgs[::-1],
                       "n": len(msgs), "latest": latest, "traces": traces})
    return sorted(result, key=lambda r: r["label"])


HOST_FIELDS = ("zspec", "zspec_err", "zphot", "zphot_err", "ra", "dec", "snsep", "ellipticity", "sqradius")


def host_galaxies(obj: DiaObject) -> list[dict]:
    """The object's (up to two) host galaxies: redshifts, position, separation, magnitudes."""
    hosts = []
    for prefix in ("hostgal", "hostgal2"):
        host = {f: getattr(obj, f"{prefix}_{f}", None) for f in HOST_FIELDS}
        host["mags"] = [(b, getattr(obj, f"{prefix}_mag_{b.lower()}", None),
                         getattr(obj, f"{prefix}_magerr_{b.lower()}", None)) for b in "ugrizy"]
        host["name"] = "Host 1" if prefix == "hostgal" else "Host 2"
        if any(v is not None and v == v and v > -9 for v in (host["zspec"], host["zphot"], host["snsep"])):
            hosts.append(host)
    return hosts


class ObjectView(Elasticc2Page):
    """``/elasticc2/object/<id>/``: a known object's light curve, classifications, spectra, target link."""

    template_name = "elasticc2/object.html"

    def get_context_data(self, objectid: int, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = DiaObject.objects.filter(pk=objectid).first()
        if obj is None:
            if object_queries.in_ppdb(objectid):
                raise Http404(f"Object {objectid} is not known to the TOM yet (no broker has classified it)")
            raise Http404(f"No object {objectid}")
        redshift, sncode = best_knowledge([objectid]).get(objectid, (None, None))
        cifiers = classifications(objectid)
        context.update(
            obj=obj, objectid=objectid, ltcv=light_curve(objectid), hosts=host_galaxies(obj),
            redshift=redshift, consensus=class_name(sncode) if sncode not in (None, -99) else None,
            classifiers=cifiers,
            probplots=[{"label": c["label"], "traces": c["traces"]} for c in cifiers],
            alerts=object_queries.sent_alerts(objectid),
            targets=list(Target.objects.filter(diaobjectoftarget__diaobject_id=objectid).distinct()),
            **object_queries.spectra(objectid))
        if context["is_admin"]:
            context["truth"] = object_queries.truth(objectid)
        return context


TARGET_PREFIX = "ELAsTiCC2 "


def target_for(obj: DiaObject, user) -> Target:
    """The TOM target of a known object (made once: name ``"ELAsTiCC2 <id>"``, linked, PUBLIC: every
    logged-in user sees it; group Public and the maker get ``view_target``, the maker ``change_target``)."""
    from django.contrib.auth.models import Group

    with transaction.atomic():
        link = DiaObjectOfTarget.objects.select_for_update().filter(diaobject=obj).first()
        if link is not None:
            return link.tomtarget
        target, _ = Target.objects.get_or_create(
            name=f"{TARGET_PREFIX}{obj.diaobject_id}",
            defaults={"type": Target.SIDEREAL, "ra": obj.ra, "dec": obj.decl, "epoch": 2000.0,
                      "permissions": Target.Permissions.PUBLIC})
        TargetExtra.objects.update_or_create(target=target, key="elasticc2_diaobject_id",
                                             defaults={"value": str(obj.diaobject_id)})
        DiaObjectOfTarget.objects.create(diaobject=obj, tomtarget=target)
        public = Group.objects.filter(name="Public").first()
        if public is not None:
            assign_perm("tom_targets.view_target", public, target)
        assign_perm("tom_targets.view_target", user, target)
        assign_perm("tom_targets.change_target", user, target)
    return target


class CreateTargetView(Elasticc2Page, View):
    """POST ``/elasticc2/object/<id>/target``: make (or find) the object's TOM target and go to it."""

    http_method_names = ["post"]

    def post(self, request, objectid: int):
        obj = DiaObject.objects.filter(pk=objectid).first()
        if obj is None:
            raise Http404(f"Object {objectid} is not known to the TOM")
        target = target_for(obj, request.user)
        messages.success(request, f"Target {target.name} is linked to ELAsTiCC2 object {objectid}.")
        return redirect(reverse("targets:detail", kwargs={"pk": target.pk}))


def target_button_context(context) -> dict:
    """Context of the target page's buttons back to its ELAsTiCC2 objects (``target_detail_buttons``)."""
    target = context.get("target") or context.get("object")
    ids = list(DiaObjectOfTarget.objects.filter(tomtarget=target).values_list("diaobject_id", flat=True)) \
        if target is not None else []
    return {"elasticc2_objects": ids}
