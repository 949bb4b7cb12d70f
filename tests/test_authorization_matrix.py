"""The authorisation matrix: every served URL x role x method -> the expected status, over real HTTP.

Roles (docs/authorization.md): anonymous, a plain logged-in user, a broker account (group
``elasticc_broker``), an ELAsTiCC admin (group ``elasticc_admin``), a superuser. Every pattern the
URLconf serves needs a row (or a named rule) here: ``test_every_served_pattern_has_a_row`` fails
otherwise. Statuses: an int, ``L`` (302 to the login page), ``AL`` (302 to the admin login),
``RD`` (another redirect), ``S`` (not sent: it would log the caller out or destroy shared rows).
"""

from __future__ import annotations

import re

import pytest

from desctom.testing.urlmatrix import (
    ADMIN_LOGIN,
    LOGIN,
    REDIRECT,
    ROLES,
    SKIP,
    Row,
    admin_model_url,
    admin_ok,
    build,
    coverage,
    describe,
    fill,
    send,
    served_patterns,
    sessions_by_role,
    status_matches,
)

pytestmark = pytest.mark.django_db(transaction=True)

L, AL, RD, S = LOGIN, ADMIN_LOGIN, REDIRECT, SKIP
#: A TOM Toolkit page of a feature DESC TOM does not configure (observation facilities, data
#: services, data sharing): it failed with 500 and now answers a clear 4xx (desctom.web.tomguards).
UNCONFIGURED = 404
PUBLIC = (200,) * 5
PAGE = (L, 200, 200, 200, 200)
ADMIN_PAGE = (L, L, L, 200, 200)
SUPER_PAGE = (L, L, L, L, 200)
JSON = (401, 200, 200, 200, 200)
JSON400 = (401, 400, 400, 400, 400)
JSON404 = (401, 404, 404, 404, 404)
JSON405 = (401, 405, 405, 405, 405)
ADMIN_JSON = (401, 403, 403, 200, 200)
ADMIN_JSON400 = (401, 403, 403, 400, 400)
ALL405 = (405,) * 5
ALL404 = (404,) * 5
FASTDB422 = (401, 422, 422, 422, 422)
FORMAT_SUFFIX = r".*\\\.\(\?P<format>\[a-z0-9\]\+\)/\?\$"
ADMIN_MODEL_PAGES = r"admin/\w+/\w+/(add/|<path:object_id>/((history|delete|change)/)?)?"


def R(route: str, url: str | None = None, *, get=None, post=None, put=None, delete=None, body=None,
      soon=False, note="") -> Row:
    """A row; ``url`` defaults to the route itself (patterns without parameters)."""
    expect = {m: s for m, s in (("GET", get), ("POST", post), ("PUT", put), ("DELETE", delete)) if s}
    return Row(route, url if url is not None else "/" + route, expect, body=body, soon=soon, note=note)


def REST(route: str, url: str, get=JSON, **kw) -> Row:
    """A read-only DRF view: other methods are 405 once logged in."""
    return R(route, url, get=get, post=JSON405 if get[1] != 403 else get[:3] + (405, 405), **kw)


E2 = "elasticc2/"
E1 = "elasticc/"
ROWS = [
    # --- accounts, site ---
    R("accounts/login/", get=PUBLIC, post=PUBLIC, body={}),
    R("accounts/logout/", get=ALL405, post=(RD, S, S, S, S)),
    R("accounts/whoami/", get=JSON, post=JSON),
    R("healthz", "/healthz?scope=web", get=PUBLIC, post=ALL405),  # the system form also judges Kafka
    R("", "/", get=PUBLIC, post=ALL405),
    R("api/schema/", get=PUBLIC),  # OpenAPI description and its viewers (desctom.apidocs): public
    R("api/docs/", get=PUBLIC),
    # --- ELAsTiCC2 pages (POST renders like GET) ---
    R(E2, get=PAGE, post=PAGE),
    R(E2 + "classifiers", get=PAGE, post=PAGE),
    R(E2 + "adminsummary", get=ADMIN_PAGE, post=ADMIN_PAGE),
    R(E2 + "objects/", get=PAGE),
    R(E2 + "object/<int:objectid>/", "/elasticc2/object/{e2_object}/", get=PAGE),
    R(E2 + "object/<int:objectid>/target", "/elasticc2/object/{e2_object}/target", get=(L, *(405,) * 4),
      post=(L, RD, RD, RD, RD)),
    R(E2 + "followup/", get=PAGE),
    # --- ELAsTiCC2 JSON ---
    R(E2 + "clock", get=JSON, post=JSON),
    R(E2 + "classids", get=JSON, post=JSON),
    R(E2 + "classifiers_json", get=JSON, post=JSON),
    R(E2 + "getalert", get=JSON400, post=JSON, body={"alertid": "{e2_source}"}),
    R(E2 + "ltcv", get=JSON400, post=JSON, body={"objectid": "{e2_object}"}),
    R(E2 + "ltcvfeatures", get=JSON400, post=JSON, body={"objectid": "{e2_object}"}),
    R(E2 + "conesearch", get=JSON400, post=JSON, body={"ra": 10.0, "dec": -5.0, "radius_arcsec": 10}),
    R(E2 + "brokermessage/", get=JSON400, post=JSON405, put=(401, 403, 400, 403, 400), delete=JSON405,
      body=[]),
    R(E2 + "brokermessage/<int:info>/", "/elasticc2/brokermessage/{e2_message}/", get=JSON,
      put=(401, 403, 400, 403, 400), body=[]),
    R(E2 + "brokermessage/<path:info>/", "/elasticc2/brokermessage/alertid={e2_source}/", get=JSON),
    R(E2 + "gethottransients", get=JSON, post=ADMIN_JSON,
      body={"detected_since_mjd": 0, "cheat_gentypes": ["{e2_gentype}"]}),
    R(E2 + "askforspectrum", get=JSON405, post=JSON400, body={}),
    R(E2 + "spectrawanted", get=JSON405, post=JSON, body={}),
    R(E2 + "planspectrum", get=JSON405, post=JSON400, body={}),
    R(E2 + "removespectrumplan", get=JSON405, post=JSON400, body={}),
    R(E2 + "reportspectruminfo", get=JSON405, post=JSON400, body={}),
    R(E2 + "getknownspectruminfo", get=JSON405, post=JSON, body={}),
    REST(E2 + "^ppdbdiaobject/$", "/elasticc2/ppdbdiaobject/"),
    REST(E2 + "^ppdbdiaobject/(?P<pk>[^/.]+)/$", "/elasticc2/ppdbdiaobject/{e2_object}/"),
    REST(E2 + "^ppdbdiasource/$", "/elasticc2/ppdbdiasource/"),
    REST(E2 + "^ppdbdiasource/(?P<pk>[^/.]+)/$", "/elasticc2/ppdbdiasource/{e2_source}/"),
    REST(E2 + "^ppdbdiaforcedsource/$", "/elasticc2/ppdbdiaforcedsource/"),
    REST(E2 + "^ppdbdiaforcedsource/(?P<pk>[^/.]+)/$", "/elasticc2/ppdbdiaforcedsource/{e2_forced}/"),
    REST(E2 + "^ppdbdiaobjectwithsources/$", "/elasticc2/ppdbdiaobjectwithsources/", get=JSON400),
    REST(E2 + "^ppdbdiaobjectwithsources/(?P<pk>[^/.]+)/$",
         "/elasticc2/ppdbdiaobjectwithsources/{e2_object}/"),
    REST(E2 + "^ppdbdiaobjectofsource/$", "/elasticc2/ppdbdiaobjectofsource/", get=JSON400),
    REST(E2 + "^ppdbdiaobjectofsource/(?P<pk>[^/.]+)/$", "/elasticc2/ppdbdiaobjectofsource/{e2_source}/"),
    # --- the live Rubin survey's pages (GET only) ---
    R("live/", get=PAGE, post=(L, 405, 405, 405, 405)),
    R("live/object/<str:rootid>/", "/live/object/{live_object}/", get=PAGE, post=(L, 405, 405, 405, 405)),
    # --- ELAsTiCC 1 ---
    R(E1, get=PAGE, post=PAGE),
    R(E1 + "summary", get=PAGE, post=PAGE),
    R(E1 + "adminsummary", get=ADMIN_PAGE, post=ADMIN_PAGE),
    *(R(E1 + name, get=JSON405, post=ADMIN_JSON400, body={})
      for name in ("adddiaobject", "addelasticcalert", "addtruth", "addobjecttruth", "markalertsent")),
    R(E1 + "getalerts", get=JSON, post=JSON),
    R(E1 + "getalertsandtruth", get=ADMIN_JSON, post=ADMIN_JSON),
    R(E1 + "brokermessage/", get=JSON400, put=(401, 403, 403, 403, 403), body=[]),
    R(E1 + "brokermessage/<int:info>/", "/elasticc/brokermessage/1/", get=JSON404),
    R(E1 + "brokermessage/<path:info>/", "/elasticc/brokermessage/alertid={e1_source}/", get=JSON),
    REST(E1 + "^diaobject/$", "/elasticc/diaobject/"),
    REST(E1 + "^diaobject/(?P<pk>[^/.]+)/$", "/elasticc/diaobject/{e1_object}/"),
    REST(E1 + "^diasource/$", "/elasticc/diasource/"),
    REST(E1 + "^diasource/(?P<pk>[^/.]+)/$", "/elasticc/diasource/{e1_source}/"),
    REST(E1 + "^diatruth/$", "/elasticc/diatruth/", get=ADMIN_JSON),
    REST(E1 + "^diatruth/(?P<pk>[^/.]+)/$", "/elasticc/diatruth/{e1_source}/", get=ADMIN_JSON),
    REST(E1 + "^diaalert/$", "/elasticc/diaalert/"),
    REST(E1 + "^diaalert/(?P<pk>[^/.]+)/$", "/elasticc/diaalert/{e1_source}/"),
    # --- SQL API (POST only; errors in the query are 200 {"status": "error"}) ---
    R("db/runsqlquery/", get=JSON405, post=JSON, body={"query": "SELECT 1 AS one"}),
    R("db/submitsqlquery/", get=JSON405, post=JSON, body={}),
    R("db/checksqlquery/<str:queryid>/", "/db/checksqlquery/{queryid}/", get=JSON405, post=JSON),
    # the queued query is the plain user's: others get 404, the superuser (an SQL admin) sees it
    R("db/getsqlqueryresults/<str:queryid>/", "/db/getsqlqueryresults/{queryid}/", get=JSON405,
      post=(401, 409, 404, 404, 409)),
    R("db/listsqlqueries/", get=JSON405, post=JSON, body={}),
    R("db/schema/", get=JSON, post=JSON),
    # --- FASTDB's routes (desctom.live.urls; text errors: 401 "Not logged in", 422 bad input) ---
    R("^auth/getchallenge/?$", "/auth/getchallenge", get=ALL405, post=(422,) * 5, body={}),
    R("^auth/respondchallenge/?$", "/auth/respondchallenge", get=ALL405, post=(422,) * 5, body={}),
    R("^auth/isauth/?$", "/auth/isauth", get=PUBLIC, post=PUBLIC),
    # a browser's session is not ended here (403): only a FASTDB program's (or none)
    R("^auth/logout/?$", "/auth/logout", get=(200, 403, 403, 403, 403), post=(200, 403, 403, 403, 403)),
    R("^getprocvers/?$", "/getprocvers", get=JSON, post=JSON),
    R("^count/(?P<which>[^/]+)(?:/(?P<procver>[^/]+))?/?$", "/count/object", get=JSON, post=JSON),
    R("^ltcv/getltcv/(?P<first>[^/]+)(?:/(?P<objid>[^/]+))?/?$", "/ltcv/getltcv/1", get=JSON405,
      post=FASTDB422),
    R("^ltcv/getmanyltcvs(?:/(?P<procver>[^/]+))?/?$", "/ltcv/getmanyltcvs", get=JSON405, post=JSON,
      body={"objids": [1]}),
    R("^ltcv/getrandomltcv(?:/(?P<procver>[^/]+))?/?$", "/ltcv/getrandomltcv", get=JSON405,
      post=JSON, note="the matrix's data has one live object (testing/liverows.py)"),
    R("^ltcv/gethottransients(?:/(?P<procver>[^/]+))?/?$", "/ltcv/gethottransients", get=JSON405,
      post=JSON, body={}),
    *(R(f"^spectrum/{name}/?$", f"/spectrum/{name}", get=JSON405, post=FASTDB422, body={})
      for name in ("askforspectrum", "planspectrum", "removespectrumplan", "reportspectruminfo")),
    *(R(f"^spectrum/{name}/?$", f"/spectrum/{name}", get=JSON405, post=JSON, body={})
      for name in ("spectrawanted", "getknownspectruminfo")),
    # --- metrics ---
    *(R("metrics/" + page, get=PAGE)
      for page in ("", "alertstream/", "delays/", "completeness/", "confusion/", "probvstime/")),
]

# --- TOM Toolkit (AUTH_STRATEGY = READ_ONLY: some pages are readable without login) ---
T = "targets/"
TOM_ROWS = [
    R("robots.txt", get=PUBLIC),
    R("terms/", get=PUBLIC),
    R("terms/accept/", get=PAGE),
    R("accounts/inactive/", get=PUBLIC),
    R("accounts/signup/", get=PUBLIC, note="renders 'sign up closed': TOM_REGISTRATION_STRATEGY unset"),
    R("accounts/reauthenticate/", get=PAGE),
    R("accounts/reauthenticate/code/", get=(L, RD, RD, RD, RD)),
    R("accounts/reauthenticate/code/confirm/", get=(L, RD, RD, RD, RD)),
    R("accounts/email/", get=PAGE),
    R("accounts/confirm-email/", get=PUBLIC),
    R("accounts/password/change/", get=PAGE),
    R("accounts/password/set/", get=(L, RD, RD, RD, RD)),
    R("accounts/login/code/confirm/", get=(L, RD, RD, RD, RD)),
    R("accounts/^confirm-email/(?P<key>[-:\\w]+)/$", "/accounts/confirm-email/nokey/", get=PUBLIC),
    R("accounts/2fa/", get=PAGE),
    R("accounts/2fa/authenticate/", get=(L, RD, RD, RD, RD)),
    R("accounts/2fa/reauthenticate/", get=(L, RD, RD, RD, RD)),
    R("accounts/2fa/totp/activate/", get=(L, RD, RD, RD, RD)),
    R("accounts/2fa/totp/deactivate/", get=(L, 404, 404, 404, 404)),
    R("accounts/2fa/recovery-codes/", get=(L, 404, 404, 404, 404)),
    R("accounts/2fa/recovery-codes/generate/", get=(L, RD, RD, RD, RD)),
    R("accounts/2fa/recovery-codes/download/", get=(L, 404, 404, 404, 404)),
    R("tom_dataservices/query/list/", get=PUBLIC),
    R("tom_dataservices/query/create/", get=(L, 400, 400, 400, 400)),
    R("tom_dataservices/query/<int:pk>/update/", "/tom_dataservices/query/1/update/",
      get=(L, 404, 404, 404, 404)),
    R("tom_dataservices/query/<int:pk>/run/", "/tom_dataservices/query/1/run/", get=ALL404),
    R("tom_dataservices/query/run/", get=(400,) * 5),
    R("tom_dataservices/query/<int:pk>/delete/", "/tom_dataservices/query/1/delete/",
      get=(L, 404, 404, 404, 404)),
    R("tom_dataservices/query/create_targets/", get=(L, 405, 405, 405, 405)),
    R("tom_dataservices/query/update_data/", get=(RD,) * 5),
    R(T, get=PUBLIC, post=(L, 405, 405, 405, 405)),
    R(T + "targetgrouping/", get=PUBLIC),
    R(T + "create/", get=PAGE, post=(L, 400, 400, 400, 400), body={}),
    R(T + "import/", get=PAGE),
    R(T + "export/", get=PUBLIC),
    R(T + "seed/", get=(L, RD, RD, RD, RD)),
    R(T + "merge/<int:pk1>/<int:pk2>", "/targets/merge/{target}/{target}", get=PUBLIC, post=(L, S, S, S, S)),
    R(T + "add-remove-grouping/", get=(L, 405, 405, 405, 405)),
    R(T + "name/<str:name>", "/targets/name/{target_name}", get=(RD,) * 5),
    R(T + "<int:pk>/update/", "/targets/{target}/update/", get=PAGE),
    R(T + "<int:pk>/delete/", "/targets/{target}/delete/", get=PAGE, post=(L, S, S, S, S)),
    R(T + "<int:pk>/share/", "/targets/{target}/share/", get=(UNCONFIGURED,) * 5,
      post=(L, S, S, S, S)),
    R(T + "<int:pk>/", "/targets/{target}/", get=PAGE),
    R(T + "<int:pk>/observation-list/", "/targets/{target}/observation-list/", get=PAGE),
    R(T + "targetgrouping/<int:pk>/delete/", "/targets/targetgrouping/{targetlist}/delete/", get=SUPER_PAGE),
    R(T + "targetgrouping/create/", get=PAGE),
    R(T + "targetgrouping/<int:pk>/share/", "/targets/targetgrouping/{targetlist}/share/",
      get=(UNCONFIGURED,) * 5),
    R(T + "persistentshare/manage/", get=JSON),
    R(T + "<int:target_pk>/persistentshare/manage/", "/targets/{target}/persistentshare/manage/", get=JSON),
    R(T + "persistentshare/manage/table", get=PUBLIC),
    R(T + "<int:target_pk>/persistentshare/manage/table", "/targets/{target}/persistentshare/manage/table",
      get=PUBLIC),
    R(T + "persistentshare/", get=(401, 403, 403, 403, 200)),
    R(T + "persistentshare/<int:pk>/", "/targets/persistentshare/999999/", get=(401, 403, 403, 403, 404)),
    R(T + "<int:target_pk>/persistentshare/", "/targets/{target}/persistentshare/",
      get=(401, 403, 403, 403, 200)),
    R(T + "targetselection/", get=SUPER_PAGE),
    R("calendar/", get=PUBLIC),
    R("calendar/create/", get=PUBLIC, post=(L, 200, 200, 200, 200), body={}),
    R("calendar/update/<int:event_id>/", "/calendar/update/{event}/", get=PUBLIC, post=(L, S, S, S, S)),
    # these three changed data on a GET (delete!) and served anonymous callers: fixed, see the docs
    R("calendar/delete/<int:event_id>/", "/calendar/delete/{event}/", get=(405,) * 5, post=(L, S, S, S, S)),
    R("calendar/todo/create/<int:event_id>/", "/calendar/todo/create/{event}/", get=(405,) * 5,
      post=(L, S, S, S, S)),
    R("calendar/todo/update/<int:todo_id>/", "/calendar/todo/update/{todo}/", get=(405,) * 5,
      post=(L, S, S, S, S)),
    R("comments/post/", get=ALL405, post=(L, 400, 400, 400, 400), body={}),
    R("comments/posted/", get=PUBLIC),
    R("comments/flag/<int:comment_id>/", "/comments/flag/{comment}/", get=PAGE),
    R("comments/flagged/", get=PUBLIC),
    R("comments/delete/<int:comment_id>/", "/comments/delete/{comment}/", get=SUPER_PAGE),
    R("comments/deleted/", get=PUBLIC),
    R("comments/approve/<int:comment_id>/", "/comments/approve/{comment}/", get=SUPER_PAGE),
    R("comments/approved/", get=PUBLIC),
    R("comments/^cr/(\\d+)/(.+)/$", "/comments/cr/{target_ct}/{target}/", get=(RD,) * 5),
    R("comment/<int:pk>/delete", "/comment/{comment}/delete", get=PAGE),
    R("observations/add/", get=PAGE),
    R("observations/list/", get=PUBLIC),
    R("observations/status/", get=PUBLIC),
    R("observations/status/list/", get=PUBLIC),
    R("observations/template/list/", get=PUBLIC),
    R("observations/template/<str:facility>/create/", "/observations/template/LCO/create/",
      get=(UNCONFIGURED,) * 5),
    R("observations/template/<int:pk>/update/", "/observations/template/{obs_template}/update/",
      get=(L, *(UNCONFIGURED,) * 4)),
    R("observations/template/<int:pk>/delete/", "/observations/template/{obs_template}/delete/", get=PAGE),
    R("observations/template/<int:pk>/", "/observations/template/{obs_template}/",
      get=(L, *(UNCONFIGURED,) * 4)),
    R("observations/groups/create/", get=PAGE),
    R("observations/groups/list/", get=PUBLIC),
    R("observations/groups/<int:pk>/delete/", "/observations/groups/{obs_group}/delete/", get=SUPER_PAGE),
    R("observations/<str:facility>/create/", "/observations/LCO/create/", get=(L, *(UNCONFIGURED,) * 4)),
    R("observations/<str:facility>/redirect/", "/observations/LCO/redirect/", get=(L, *(UNCONFIGURED,) * 4)),
    R("observations/<int:pk>/cancel/", "/observations/{observation}/cancel/", get=(L, 404, 404, 404, 404)),
    R("observations/<int:pk>/update/", "/observations/{observation}/update/", get=(L, 404, 404, 404, 404)),
    R("observations/<int:pk>/", "/observations/{observation}/", get=ALL404),
    R("observations/callback/", get=(L, RD, RD, RD, RD)),
    R("dataproducts/data/", get=PUBLIC),
    R("dataproducts/data/group/create/", get=PAGE),
    R("dataproducts/data/group/list/", get=PUBLIC),
    R("dataproducts/data/group/add/", get=PAGE),
    R("dataproducts/data/group/<int:pk>/", "/dataproducts/data/group/{dp_group}/", get=PUBLIC),
    R("dataproducts/data/group/<int:pk>/delete/", "/dataproducts/data/group/{dp_group}/delete/", get=PAGE),
    R("dataproducts/data/upload/", get=(L, 405, 405, 405, 405)),
    R("dataproducts/data/reduced/update/", get=(L, *(UNCONFIGURED,) * 4)),
    R("dataproducts/data/single_target_data_service/<str:service>/query/",
      "/dataproducts/data/single_target_data_service/none/query/", get=(L, *(UNCONFIGURED,) * 4)),
    R("dataproducts/data/<int:pk>/delete/", "/dataproducts/data/{dataproduct}/delete/", get=PUBLIC,
      post=(L, S, S, S, S), note="any logged-in user may delete a data product (TARGET_PERMISSIONS_ONLY)"),
    R("dataproducts/data/<int:pk>/feature/", "/dataproducts/data/{dataproduct}/feature/", get=(400,) * 5),
    R("dataproducts/data/<int:dp_pk>/share/", "/dataproducts/data/{dataproduct}/share/",
      get=(UNCONFIGURED,) * 5),
    R("dataproducts/target/<int:tg_pk>/share/", "/dataproducts/target/{target}/share/",
      get=(UNCONFIGURED,) * 5),
    R("dataproducts/<int:pk>/save/", "/dataproducts/{target}/save/", get=(L, 405, 405, 405, 405)),
    R("users/", get=PAGE),
    R("users/<int:pk>/changepassword/", "/users/{user_pk}/changepassword/", get=SUPER_PAGE),
    R("users/create/", get=SUPER_PAGE, post=(L, L, L, L, 200), body={}),
    R("users/<int:pk>/approve/", "/users/{user_pk}/approve/", get=(L, L, L, L, 405)),
    R("users/<int:pk>/delete/", "/users/{user_pk}/delete/", get=(L, 200, RD, RD, 200)),
    R("users/<int:pk>/update/", "/users/{user_pk}/update/", get=(L, 200, RD, RD, 200)),
    R("users/<int:pk>/regenerate-token/", "/users/{user_pk}/regenerate-token/", get=(L, 405, RD, RD, 405)),
    R("users/profile/", get=PAGE),
    R("groups/create/", get=SUPER_PAGE, post=(L, L, L, L, 200), body={}),
    R("groups/<int:pk>/update/", "/groups/{group_pk}/update/", get=SUPER_PAGE),
    R("groups/<int:pk>/delete/", "/groups/{group_pk}/delete/", get=SUPER_PAGE),
    # --- Django admin (model pages: the rule ADMIN_MODEL_PAGES below) ---
    R("admin/", get=(AL, AL, AL, AL, 200)),
    R("admin/login/", get=(L, L, L, L, RD)),
    R("admin/logout/", get=(RD, RD, RD, RD, 405), post=(RD, S, S, S, S)),
    R("admin/password_change/", get=(AL, AL, AL, AL, 200)),
    R("admin/password_change/done/", get=(AL, AL, AL, AL, 200)),
    R("admin/autocomplete/", get=(AL, AL, AL, AL, L)),
    R("admin/jsi18n/", get=(AL, AL, AL, AL, 200)),
    R("admin/r/<path:content_type_id>/<path:object_id>/", "/admin/r/{target_ct}/{target}/",
      get=(AL, AL, AL, AL, RD)),
    R("admin/^(?P<app_label>axes|desctom_accounts|auth|sites|django_tasks_database|tom_common|account|mfa|django_comments|authtoken"
      "|tom_targets|tom_observations|tom_dataproducts|tom_calendar)/$", "/admin/auth/",
      get=(AL, AL, AL, AL, 200)),
    R("admin/(?P<url>.*)$", "/admin/nothing-here/", get=(AL, AL, AL, AL, 404)),
    R("admin/auth/user/<id>/password/", "/admin/auth/user/{user_pk}/password/", get=(AL, AL, AL, AL, 200)),
    # (GET only: Django's admin_view applies one staff check to every method)
    Row(ADMIN_MODEL_PAGES, "", {"GET": (AL, AL, AL, AL, "admin-ok")}, rule="django-admin model pages"),
    # --- DRF: the browsable-API login and the TOM Toolkit's REST API ---
    R("api-auth/login/", get=(L,) * 5),
    R("api-auth/logout/", get=(RD,) * 5),
    R("api/", get=JSON),
    R("api/<drf_format_suffix:format>", "/api/.json", get=JSON),
    R("api/token-auth/", get=ALL405, post=(400,) * 5, body={}),
    REST("api/^groups/$", "/api/groups/"),
    R("api/^targets/$", "/api/targets/", get=JSON, post=JSON400, body={}),
    REST("api/^targets/(?P<pk>[^/.]+)/$", "/api/targets/{target}/"),
    REST("api/^targetextra/(?P<pk>[^/.]+)/$", "/api/targetextra/{targetextra}/"),
    REST("api/^targetname/(?P<pk>[^/.]+)/$", "/api/targetname/{targetname}/"),
    R("api/^targetlist/(?P<pk>[^/.]+)/$", "/api/targetlist/{targetlist}/", get=JSON),
    R("api/^observations/$", "/api/observations/", get=JSON, post=JSON400, body={}),
    REST("api/^observations/(?P<pk>[^/.]+)/$", "/api/observations/{observation}/", get=JSON404),
    R("api/^observations/(?P<pk>[^/.]+)/cancel/$", "/api/observations/{observation}/cancel/", get=JSON405),
    R("api/^dataproducts/$", "/api/dataproducts/", get=JSON, post=(401, *(415,) * 4), body={}),
    R("api/^dataproducts/(?P<pk>[^/.]+)/$", "/api/dataproducts/{dataproduct}/", get=JSON405),
    R("api/^reduceddatums/$", "/api/reduceddatums/", get=JSON, post=JSON400, body={}),
    R("api/^reduceddatums/(?P<pk>[^/.]+)/$", "/api/reduceddatums/{reduceddatum}/", get=JSON405),
    # --- DRF format suffixes (``<route>.json``): the rule FORMAT_SUFFIX, same statuses as the base row ---
    Row(FORMAT_SUFFIX, "", {}, rule="DRF format suffix"),
]
TABLE = ROWS + TOM_ROWS


def concrete_rows(patterns, ids: dict) -> list[tuple[str, str, dict, object]]:
    """``(route, url, expect, body)`` for every served pattern: its row, or what its rule makes of it."""
    explicit = {r.route: r for r in TABLE if r.rule is None}
    result = []
    for p in patterns:
        row = explicit.get(p.route)
        if row is not None:
            result.append((p.route, fill(row.url, ids), row.expect, fill(row.body, ids)))
        elif re.fullmatch(FORMAT_SUFFIX, p.route):
            base = explicit.get(re.sub(r"\\\.\(\?P<format>\[a-z0-9\]\+\)/\?\$$", "/$", p.route))
            assert base is not None, f"{p.route}: no row for its base pattern"
            url = fill(base.url, ids).rstrip("/") + ".json"
            result.append((p.route, url, {"GET": base.expect["GET"]}, None))
        elif re.fullmatch(ADMIN_MODEL_PAGES, p.route):
            rule = next(r for r in TABLE if r.rule and r.covers(p))
            result.append((p.route, admin_model_url(p.route), rule.expect, None))
    return result


@pytest.fixture(scope="module", autouse=True)
def taxonomy_back_afterwards(django_db_setup, django_db_blocker):
    """The tests here end by emptying every table: put back the taxonomy rows later tests expect."""
    yield
    from desctom.elasticc import models as e1_models
    from desctom.elasticc.models import taxonomy_tree as e1_taxonomy
    from desctom.elasticc2 import models as e2_models
    from desctom.survey import taxonomy as e2_taxonomy

    with django_db_blocker.unblock():
        e2_taxonomy.fill_tables(e2_models.GentypeOfClassId, e2_models.ClassIdOfGentype)
        e1_taxonomy.fill_tables(e1_models.GentypeOfClassId, e1_models.ClassIdOfGentype)


@pytest.mark.django_db(transaction=False)
def test_every_served_pattern_has_a_row():
    patterns = served_patterns()
    routes = [r.route for r in TABLE if r.rule is None]
    assert len(routes) == len(set(routes)), "a route has two rows"
    uncovered, stale, pending = coverage(patterns, TABLE)
    assert uncovered == [], "served patterns without a row in the authorisation matrix:\n" + "\n".join(
        f"  {p.route}  ({p.name or '-'}: {p.view})" for p in uncovered)
    assert stale == [], "rows naming no served pattern: " + ", ".join(r.route for r in stale)
    assert all(r.soon for r in pending)


@pytest.mark.django_db(transaction=False)
def test_a_new_url_without_a_row_is_noticed(monkeypatch):
    """The completeness check fails as soon as the URLconf serves something the table lacks."""
    import sys
    import types

    from django.http import HttpResponse
    from django.urls import get_resolver, path

    import desctom.urls

    urlconf = types.ModuleType("authz_extended_urls")
    new_view = path("brand-new/<int:pk>/", lambda request, pk: HttpResponse())
    urlconf.urlpatterns = [*desctom.urls.urlpatterns, new_view]
    monkeypatch.setitem(sys.modules, urlconf.__name__, urlconf)
    uncovered, stale, _ = coverage(served_patterns(get_resolver(urlconf.__name__)), TABLE)
    assert [p.route for p in uncovered] == ["brand-new/<int:pk>/"] and stale == []
    extra, coming = R("elasticc2/retired-page/", get=PAGE), R("elasticc2/coming-page/", get=PAGE, soon=True)
    assert coverage(served_patterns(), [*TABLE, extra, coming])[1:] == ([extra], [coming])


def test_matrix(live_server):
    """Every served pattern, every role, every method of its row: the expected status, over HTTP."""
    ids = build()
    base = live_server.url
    sessions = sessions_by_role(base)
    rows = concrete_rows(served_patterns(), ids)
    wrong, sent = [], 0
    for route, url, expect, body in rows:
        for method, statuses in expect.items():
            for role, expected in zip(ROLES, statuses, strict=True):
                if expected is SKIP:
                    continue
                res = send(sessions[role], base, method, url, body)
                sent += 1
                ok = admin_ok(res) if expected == "admin-ok" else status_matches(expected, res)
                if not ok:
                    wrong.append(f"{method} {url} as {role}: expected {expected}, got {describe(res)}"
                                 f"  [{route}]")
    assert wrong == [], f"{len(wrong)} of {sent} requests disagree with the matrix:\n" + "\n".join(wrong)
    assert len(rows) == len(served_patterns()) and sent > 1000


def _text(res) -> str:
    return res.text if res.status_code == 200 else ""


def test_truth_never_reaches_non_admins(live_server):
    """No API, page or SQL query shows a non-admin the simulation truth; admins do see it."""
    from desctom.db.workers.roles import ensure_readonly_role

    ids = build()
    ensure_readonly_role()  # grants as after a migrate
    base = live_server.url
    sessions = sessions_by_role(base)
    truth, e1_gentype = ids["e2_truth"], ids["e1_truth_gentype"]
    marks = [f"gentype {truth['gentype']}:", f"z<sub>cmb</sub> {truth['zcmb']:.4f}",
             f"peak MJD {truth['peakmjd']:.2f}", 'id="truth"', f'"gentype": {e1_gentype}',
             f'"gentype":{e1_gentype}']
    truth_api = [("GET", "/elasticc/getalertsandtruth", None), ("POST", "/elasticc/getalertsandtruth", {}),
                 ("GET", "/elasticc/diatruth/", None), ("GET", "/elasticc/diatruth.json", None),
                 ("GET", f"/elasticc/diatruth/{ids['e1_source']}/", None),
                 ("POST", "/elasticc2/gethottransients",
                  {"detected_since_mjd": 0, "cheat_gentypes": [truth["gentype"]]})]
    science = ("elasticc2/", "elasticc/", "metrics/", "db/", "targets/", "api/")
    pages = [fill(r.url, ids) for r in TABLE
             if r.rule is None and "GET" in r.expect and (r.route == "" or r.route.startswith(science))]
    truth_tables = ["elasticc2_diaobjecttruth", "elasticc2_trainingdiaobjecttruth", "elasticc_diatruth",
                    "elasticc_diaobjecttruth"]
    for role in ROLES[:3]:  # anonymous, plain user, broker
        session = sessions[role]
        for method, url, body in truth_api:
            res = send(session, base, method, url, body)
            assert res.status_code in (401, 403), f"{method} {url} as {role}: {res.status_code}"
        for url in pages:
            text = _text(send(session, base, "GET", url, None))
            assert not [m for m in marks if m in text], f"truth on {url} for {role}"
        if role == "anonymous":
            continue
        for table in truth_tables:
            res = send(session, base, "POST", "/db/runsqlquery/", {"query": f"SELECT * FROM {table} LIMIT 1"})
            assert res.status_code == 200 and res.json()["status"] == "error", (role, table, res.text[:200])
            assert "permission denied" in res.json()["error"]
        res = send(session, base, "POST", "/db/runsqlquery/",
                   {"query": "SELECT count(*) AS n FROM elasticc2_ppdbdiaobject"})
        assert res.json() == {"status": "ok", "rows": [{"n": 6}]}, res.text[:200]
    for role in ROLES[3:]:  # the positive control: admins see the truth
        for method, url, body in truth_api:
            res = send(sessions[role], base, method, url, body)
            assert res.status_code == 200, f"{method} {url} as {role}: {res.status_code}"
        page = _text(send(sessions[role], base, "GET", f"/elasticc2/object/{ids['e2_object']}/", None))
        assert all(m in page for m in marks[:4])
        answer = send(sessions[role], base, "POST", "/elasticc/getalertsandtruth", {}).text
        assert any(m in answer for m in marks[4:]), answer[:300]
