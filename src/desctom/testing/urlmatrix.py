"""The authorisation matrix's machinery: every served URL pattern, roles, rows, and the check of both.

A :class:`Row` names one served pattern (its route exactly as :func:`served_patterns` spells it) or,
for a *rule*, a regular expression covering a family of patterns (Django admin model pages, DRF
``.json`` suffixes). For each HTTP method it lists the expected status per role, in :data:`ROLES`
order. The table itself lives in ``tests/test_authorization_matrix.py``; see docs/authorization.md.
"""

from __future__ import annotations

import datetime
import re
import secrets
from dataclasses import dataclass

import requests
from django.db import connection, transaction

#: The five kinds of caller, in the order of every expectation tuple.
ROLES = ("anonymous", "user", "broker", "elasticc_admin", "superuser")
#: A 302 to the site's login page (``/accounts/login/?next=...``).
LOGIN = "login"
#: A 302 to the Django admin's login page.
ADMIN_LOGIN = "adminlogin"
#: A 302 somewhere else (a form's success page, a moved page).
REDIRECT = "redirect"
#: Not sent: the request would change or delete data the other rows rely on.
SKIP = None


@dataclass(frozen=True)
class Pattern:
    """One served URL pattern: its full route, its (namespaced) name and its view."""

    route: str
    name: str
    view: str


@dataclass
class Row:
    """Expected statuses of one pattern (or, with ``rule``, of every pattern ``route`` matches).

    ``url`` is a concrete path (``str.format`` placeholders filled from the data set's ids);
    ``expect`` maps a method to one status per role (an int, :data:`LOGIN`, :data:`ADMIN_LOGIN`,
    :data:`REDIRECT` or :data:`SKIP`); ``body`` is sent as JSON with unsafe methods; ``soon``
    marks a row for a pattern that may not be served yet (being added elsewhere).
    """

    route: str
    url: str
    expect: dict[str, tuple]
    body: object = None
    rule: str | None = None
    soon: bool = False
    note: str = ""

    def __post_init__(self):
        for method, statuses in self.expect.items():
            if len(statuses) != len(ROLES):
                raise ValueError(f"{self.route} {method}: {len(statuses)} statuses for {len(ROLES)} roles")

    def covers(self, pattern: Pattern) -> bool:
        if self.rule is None:
            return pattern.route == self.route
        return re.fullmatch(self.route, pattern.route) is not None


def served_patterns(resolver=None) -> list[Pattern]:
    """Every URL pattern the project serves, walking the root resolver recursively (first wins:
    a pattern shadowed by an identical earlier route is listed once)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix: str, namespace: str | None):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(x for x in (namespace, p.namespace) if x) or None
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                callback = p.callback
                qualname = getattr(callback, "__qualname__", callback.__class__.__name__)
                view = f"{callback.__module__}.{qualname}"
                cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
                if cls is not None:
                    view = f"{cls.__module__}.{cls.__qualname__}"
                name = ":".join(x for x in (namespace, p.name) if x)
                yield Pattern(prefix + str(p.pattern), name, view)

    seen, result = set(), []
    for pattern in walk((resolver or get_resolver()).url_patterns, "", None):
        if pattern.route not in seen:
            seen.add(pattern.route)
            result.append(pattern)
    return result


def coverage(patterns: list[Pattern], rows: list[Row]) -> tuple[list[Pattern], list[Row], list[Row]]:
    """``(patterns without a row, rows naming no served pattern, soon-rows not served yet)``.

    A pattern is covered by its own row or by a rule; an explicit row wins over rules.
    """
    explicit = {r.route for r in rows if r.rule is None}
    routes = {p.route for p in patterns}
    uncovered = [p for p in patterns
                 if p.route not in explicit and not any(r.rule and r.covers(p) for r in rows)]
    stale, pending = [], []
    for r in rows:
        served = (r.route in routes) if r.rule is None else any(r.covers(p) for p in patterns)
        if not served:
            (pending if r.soon else stale).append(r)
    return uncovered, stale, pending


def status_matches(expected, response) -> bool:
    """Whether a ``requests`` response (redirects not followed) is the expected status."""
    code = response.status_code
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        return code == 302 and location.split("?")[0].endswith("/accounts/login/")
    if expected == ADMIN_LOGIN:
        return code == 302 and "/admin/login/" in location
    if expected == REDIRECT:
        return code in (301, 302, 303) and "/login/" not in location
    return code == expected


def describe(response) -> str:
    """A response's status as the table spells it (for failure messages)."""
    code = response.status_code
    location = response.headers.get("Location", "")
    if code == 302 and location.split("?")[0].endswith("/accounts/login/"):
        return LOGIN
    if code == 302 and "/admin/login/" in location:
        return ADMIN_LOGIN
    if code in (301, 302, 303):
        return f"{REDIRECT}({code} {location})"
    return str(code)


def fill(value, ids: dict):
    """``value`` with ``{name}`` placeholders filled from ``ids`` (a lone placeholder keeps the id's type)."""
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        return ids[whole.group(1)] if whole else value.format(**ids)
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def admin_model_url(route: str) -> str:
    """A concrete URL of a Django admin model page: an existing row of the model where there is one."""
    from django.apps import apps

    app_label, model_name = route.split("/")[1:3]
    row = apps.get_model(app_label, model_name)._default_manager.order_by("pk").first()
    return "/" + route.replace("<path:object_id>", str(row.pk) if row else "999999999")


def admin_ok(response) -> bool:
    """The superuser on a Django admin model page: the page, a redirect inside the admin, or the
    admin's 403 (as an HTML page: the login redirect) for an action the model does not allow."""
    location = response.headers.get("Location", "")
    return response.status_code in (200, 403) or status_matches(LOGIN, response) or (
        response.status_code == 302 and "/admin/" in location and "/login/" not in location)


def sessions_by_role(base: str) -> dict[str, requests.Session]:
    """One HTTP session per role, logged in through the login form, with the CSRF header set."""
    result = {}
    for role in ROLES:
        session = requests.Session()
        session.get(f"{base}/accounts/login/", timeout=30)
        if role != "anonymous":
            res = session.post(f"{base}/accounts/login/", allow_redirects=False, timeout=30,
                               data={"username": USERS[role], "password": PASSWORD,
                                     "csrfmiddlewaretoken": session.cookies["csrftoken"]})
            if res.status_code != 302:
                raise RuntimeError(f"{role} ({USERS[role]}) could not log in: {res.status_code}")
        session.headers.update({"X-CSRFToken": session.cookies["csrftoken"], "Referer": base + "/"})
        result[role] = session
    return result


def send(session: requests.Session, base: str, method: str, url: str, body) -> requests.Response:
    """One request, redirects not followed; ``body`` goes as JSON with methods other than GET."""
    kwargs = {"json": body} if body is not None and method != "GET" else {}
    return session.request(method, base + url, allow_redirects=False, timeout=120, **kwargs)


# ---------------------------------------------------------------------------------------------
# The data set: users of each role, and one row of everything a URL parameter names.

#: The test accounts' password: made per test session, never stored.
PASSWORD = secrets.token_urlsafe(16)
USERS = {"user": "mx_user", "broker": "mx_broker", "elasticc_admin": "mx_e_admin", "superuser": "mx_root"}
E2_FIRST_ID = 7_100_000_000
E1_OBJECT = 9_100_000_001


def one(sql: str, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return None if row is None else row[0]


def make_users() -> dict:
    from django.contrib.auth.models import Group, User

    for name in ("Public", "elasticc_admin", "elasticc_broker"):
        Group.objects.get_or_create(name=name)
    users = {"user": User.objects.create_user(USERS["user"], "", PASSWORD),
             "broker": User.objects.create_user(USERS["broker"], "", PASSWORD),
             "elasticc_admin": User.objects.create_user(USERS["elasticc_admin"], "", PASSWORD),
             "superuser": User.objects.create_superuser(USERS["superuser"], "", PASSWORD)}
    users["broker"].groups.add(Group.objects.get(name="elasticc_broker"))
    users["elasticc_admin"].groups.add(Group.objects.get(name="elasticc_admin"))
    return users


def elasticc2_data(users) -> dict:
    """A synthetic survey of 6 objects; 3 of them known (copied to the local tables) with a message."""
    from desctom.elasticc2.http.pages.objects import target_for
    from desctom.elasticc2.loaders.synth import generate, write
    from desctom.elasticc2.models import DiaObject
    from desctom.elasticc2.workers.brokerstore import (
        REST_TOPIC,
        ClassifierRegistry,
        MessageBatch,
        store_messages,
    )

    write(generate(6, 11, first_id=E2_FIRST_ID))
    with connection.cursor() as cur:
        for table, key in (("diaobject", "diaobject_id"), ("diasource", "diaobject_id"),
                           ("diaforcedsource", "diaobject_id")):
            cur.execute(f"INSERT INTO elasticc2_{table} SELECT * FROM elasticc2_ppdb{table} "  # noqa: S608
                        f"WHERE {key} < %s", [E2_FIRST_ID + 3])
    objectid = one("SELECT o.diaobject_id FROM elasticc2_diaobject o JOIN elasticc2_diaobjecttruth t "
                   "ON t.diaobject_id = o.diaobject_id JOIN elasticc2_diasource s "
                   "ON s.diaobject_id = o.diaobject_id ORDER BY 1 LIMIT 1")
    source = one("SELECT diasource_id FROM elasticc2_diasource WHERE diaobject_id = %s ORDER BY 1 LIMIT 1",
                 [objectid])
    forced = one("SELECT diaforcedsource_id FROM elasticc2_ppdbdiaforcedsource ORDER BY 1 LIMIT 1")
    now_ms = int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)
    batch = MessageBatch()
    batch.add({"alertId": source, "diaSourceId": source, "elasticcPublishTimestamp": now_ms,
               "brokerIngestTimestamp": now_ms, "brokerName": "MatrixBroker", "brokerVersion": "1",
               "classifierName": "c", "classifierParams": "p",
               "classifications": [{"classId": 2222, "probability": 1.0}]},
              topic=REST_TOPIC, header_ms=now_ms)
    with transaction.atomic():
        connection.ensure_connection()
        store_messages(connection.connection, batch, ClassifierRegistry())
    message = one("SELECT min(brokermessage_id) FROM elasticc2_brokermessage")
    target = target_for(DiaObject.objects.get(pk=objectid), users["superuser"])
    truth = {k: one(f"SELECT {k} FROM elasticc2_diaobjecttruth WHERE diaobject_id = %s",  # noqa: S608
                    [objectid]) for k in ("gentype", "zcmb", "peakmjd")}
    return {"e2_object": objectid, "e2_gentype": truth["gentype"], "e2_source": source, "e2_forced": forced,
            "e2_message": message,
            "target": target.pk, "target_name": target.name, "e2_truth": truth}


def elasticc1_data() -> dict:
    """One ELAsTiCC 1 object with a source, a forced source, an alert and truth rows."""
    from desctom.elasticc.models import (
        DiaAlert,
        DiaForcedSource,
        DiaObject,
        DiaObjectTruth,
        DiaSource,
        DiaTruth,
    )

    obj = DiaObject.objects.create(diaObjectId=E1_OBJECT, ra=10.0, decl=-5.0, simVersion="matrix")
    source_id = E1_OBJECT * 100 + 1
    DiaSource.objects.create(diaSourceId=source_id, ccdVisitId=1, diaObject=obj, midPointTai=60000.5,
                             filterName="r", ra=10.0, decl=-5.0, psFlux=1000.0, psFluxErr=10.0, snr=100.0)
    DiaForcedSource.objects.create(diaForcedSourceId=source_id, ccdVisitId=1, diaObject=obj,
                                   midPointTai=60000.5, filterName="r", psFlux=1000.0, psFluxErr=10.0)
    DiaAlert.objects.create(alertId=source_id, diaSource_id=source_id, diaObject=obj)
    DiaTruth.objects.create(diaSourceId=source_id, diaObjectId=E1_OBJECT, mjd=60000.5, detect=True,
                            gentype=4242, genmag=21.25)
    fields = {f.name: 0 for f in DiaObjectTruth._meta.concrete_fields if f.name != "diaObject"}
    DiaObjectTruth.objects.create(diaObject=obj, **{**fields, "gentype": 4242})
    return {"e1_object": E1_OBJECT, "e1_source": source_id, "e1_truth_gentype": 4242}


def tom_data(users, target_pk: int) -> dict:
    """A target list and alias, observation group and template, a data product with a reduced datum,
    a calendar event with a to-do, a comment, and a queued SQL query of the plain user."""
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site
    from django.core.files.base import ContentFile
    from django_comments.models import Comment
    from tom_calendar.models import CalendarEvent, EventTodo
    from tom_dataproducts.models import DataProduct, DataProductGroup, ReducedDatum
    from tom_observations.models import ObservationGroup, ObservationTemplate
    from tom_targets.models import Target, TargetExtra, TargetList, TargetName

    from desctom.db.models import QueryQueue

    target = Target.objects.get(pk=target_pk)
    group = TargetList.objects.create(name="matrix list")
    group.targets.add(target)
    alias = TargetName.objects.create(target=target, name="matrix alias")
    extra = TargetExtra.objects.filter(target=target).first()
    obs_group = ObservationGroup.objects.create(name="matrix obs group")
    template = ObservationTemplate.objects.create(name="matrix template", facility="LCO", parameters={})
    product = DataProduct(target=target, product_id="matrix-dp", data_product_type="photometry")
    product.data.save("matrix_dp.csv", ContentFile(b"time,magnitude\n60000.5,20.0\n"), save=True)
    dp_group = DataProductGroup.objects.create(name="matrix dp group")
    now = datetime.datetime.now(datetime.UTC)
    datum = ReducedDatum.objects.create(target=target, data_product=product, data_type="photometry",
                                        timestamp=now, value={"magnitude": 20})
    event = CalendarEvent.objects.create(title="matrix event", start_time=now, end_time=now)
    todo = EventTodo.objects.create(event=event, description="matrix todo")
    comment = Comment.objects.create(content_type=ContentType.objects.get_for_model(Target),
                                     object_pk=str(target.pk), site=Site.objects.get_current(),
                                     user=users["superuser"], comment="matrix comment")
    query = QueryQueue.objects.create(owner=users["user"], submitted=datetime.datetime.now(datetime.UTC),
                                      queries=["SELECT 1"], subdicts=[{}], format="csv")
    return {"targetlist": group.pk, "targetname": alias.pk, "targetextra": extra.pk if extra else 0,
            "observation": 999999, "obs_group": obs_group.pk, "obs_template": template.pk,
            "dataproduct": product.pk, "dp_group": dp_group.pk, "reduceddatum": datum.pk,
            "comment": comment.pk, "queryid": str(query.queryid), "target_ct":
            ContentType.objects.get_for_model(Target).pk,
            "event": event.pk, "todo": todo.pk, "user_pk": users["user"].pk,
            "group_pk": Group.objects.get(name="Public").pk}


def live_data() -> dict:
    """One root object of the live survey with its photometry and classifications."""
    from desctom.testing.liverows import make_object

    return {"live_object": make_object()["rootid"]}


def build() -> dict:
    """Everything; returns the ids the URL table's placeholders name."""
    users = make_users()
    ids = {"users": {role: u.pk for role, u in users.items()}}
    ids.update(elasticc2_data(users))
    ids.update(elasticc1_data())
    ids.update(tom_data(users, ids["target"]))
    ids.update(live_data())
    return ids
