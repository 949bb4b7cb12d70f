# ruff: noqa  (a probe run by hand: pytest tests/elasticc2/zz_probe_bad_input.py -s)
import json
import pytest
from test_e2_followup_data import O1, load_followup_sample

BIG = "1" + "0" * 400
DEEP = "[" * 5000 + "]" * 5000

CASES = [
    ("elasticc2/ltcv", '{"objectids": [%s]}' % BIG),
    ("elasticc2/ltcv", '{"objectids": [%d], "mjd_now": %s}' % (O1, BIG)),
    ("elasticc2/ltcvfeatures", '{"objectids": [%d], "mjd_now": %s}' % (O1, BIG)),
    ("elasticc2/ltcvfeatures", '{"objectids": [%s]}' % BIG),
    ("elasticc2/conesearch", '{"ra": %s, "dec": 0, "radius": 10}' % BIG),
    ("elasticc2/conesearch", '{"ra": 1, "dec": 0, "radius": %s}' % BIG),
    ("elasticc2/gethottransients", '{"mjd_now": %s}' % BIG),
    ("elasticc2/gethottransients", '{"detected_in_last_days": %s}' % BIG),
    ("elasticc2/gethottransients", '{"detected_since_mjd": %s}' % BIG),
    ("elasticc2/gethottransients", '{"return_format": %s}' % BIG),
    ("elasticc2/spectrawanted", '{"mjd_now": %s}' % BIG),
    ("elasticc2/spectrawanted", '{"no_spectra_in_last_days": %s}' % BIG),
    ("elasticc2/spectrawanted", '{"lim_mag": %s, "lim_mag_band": "r"}' % BIG),
    ("elasticc2/spectrawanted", '{"mjd_now": 1e308}'),
    ("elasticc2/spectrawanted", '{"requested_since": "2020-01-01\\u0000"}'),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x", "mjd": %s, "z": 0.1, "classid": 2222}' % (O1, BIG)),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x", "mjd": 60000, "z": 1e39, "classid": 2222}' % O1),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x", "mjd": 60000, "z": 1e308, "classid": 2222}' % O1),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x", "mjd": 60000, "z": 1.8e19, "classid": 2222}' % O1),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x", "mjd": 1e308, "z": 0.1, "classid": 2222}' % O1),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x\\u0000", "mjd": 60000, "z": 0.1, "classid": 2222}' % O1),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x\\ud800", "mjd": 60000, "z": 0.1, "classid": 2222}' % O1),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "%s", "mjd": 60000, "z": 0.1, "classid": 2222}' % (O1, "f" * 2_000_000)),
    ("elasticc2/reportspectruminfo", '{"objectid": %d, "facility": "x", "mjd": 60000, "z": 0.1, "classid": %s}' % (O1, BIG)),
    ("elasticc2/getknownspectruminfo", '{"objectid": %s}' % BIG),
    ("elasticc2/getknownspectruminfo", '{"mjd_min": %s}' % BIG),
    ("elasticc2/getknownspectruminfo", '{"facility": "a\\ud800"}'),
    ("elasticc2/askforspectrum", '{"requester": "a\\u0000", "objectids": [%d], "priorities": [3]}' % O1),
    ("elasticc2/askforspectrum", '{"requester": "a\\ud800", "objectids": [%d], "priorities": [3]}' % O1),
    ("elasticc2/askforspectrum", '{"requester": "%s", "objectids": [%d], "priorities": [3]}' % ("r" * 1_000_000, O1)),
    ("elasticc2/askforspectrum", '{"requester": "a", "objectids": [%d], "priorities": [%s]}' % (O1, BIG)),
    ("elasticc2/planspectrum", '{"objectid": %d, "facility": "a\\u0000"}' % O1),
    ("elasticc2/planspectrum", '{"objectid": %d, "facility": "a\\ud800"}' % O1),
    ("elasticc2/planspectrum", '{"objectid": %d, "facility": "a", "comment": "\\ud800"}' % O1),
    ("elasticc2/planspectrum", '{"objectid": %d, "facility": "a", "comment": "%s"}' % (O1, "c" * 3_000_000)),
    ("elasticc2/planspectrum", '{"objectid": %s, "facility": "a"}' % BIG),
    ("elasticc2/removespectrumplan", '{"objectid": %d, "facility": "a\\ud800"}' % O1),
    ("elasticc2/getalert", '{"alertid": %s}' % BIG),
    ("elasticc2/brokermessage/", '{"alertId": %s, "diaSourceId": 1, "brokerName": "b"}' % BIG),
    ("db/runsqlquery/", '{"query": "SELECT 1\\u0000"}'),
    ("db/runsqlquery/", '{"query": "SELECT \'\\ud800\'"}'),
    ("db/runsqlquery/", '{"query": "SELECT %%(a)s", "subdict": {"a": "\\ud800"}}'),
    ("db/runsqlquery/", '{"query": "SELECT %%(a)s", "subdict": {"a": %s}}' % BIG),
    ("db/runsqlquery/", DEEP),
    ("db/runsqlquery/", '{"query": "SELECT 1", "subdict": %s}' % DEEP),
    ("db/submitsqlquery/", DEEP),
    ("db/submitsqlquery/", '{"query": "SELECT 1\\u0000"}'),
    ("db/submitsqlquery/", '{"query": "SELECT \'\\ud800\'"}'),
    ("elasticc2/brokermessage/", "{\"alertId\": BIG, \"diaSourceId\": 101, \"elasticcPublishTimestamp\": 1700000000000, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"TestBroker\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": 2222, \"probability\": 0.75}]}".replace("BIG", BIG)),
    ("elasticc2/brokermessage/", "{\"alertId\": 101, \"diaSourceId\": BIG, \"elasticcPublishTimestamp\": 1700000000000, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"TestBroker\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": 2222, \"probability\": 0.75}]}".replace("BIG", BIG)),
    ("elasticc2/brokermessage/", "{\"alertId\": 101, \"diaSourceId\": 101, \"elasticcPublishTimestamp\": BIG, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"TestBroker\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": 2222, \"probability\": 0.75}]}".replace("BIG", BIG)),
    ("elasticc2/brokermessage/", "{\"alertId\": 101, \"diaSourceId\": 101, \"elasticcPublishTimestamp\": 1700000000000, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"TestBroker\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": BIG, \"probability\": 0.75}]}".replace("BIG", BIG)),
    ("elasticc2/brokermessage/", "{\"alertId\": 101, \"diaSourceId\": 101, \"elasticcPublishTimestamp\": 1700000000000, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"TestBroker\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": 2222, \"probability\": BIG}]}".replace("BIG", BIG)),
    ("elasticc2/brokermessage/", "{\"alertId\": 101, \"diaSourceId\": 101, \"elasticcPublishTimestamp\": 1700000000000, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"T\\u0000\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": 2222, \"probability\": 0.75}]}".replace("BIG", BIG)),
    ("elasticc2/brokermessage/", "{\"alertId\": 101, \"diaSourceId\": 101, \"elasticcPublishTimestamp\": 1700000000000, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"T\\ud800\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": 2222, \"probability\": 0.75}]}".replace("BIG", BIG)),
    ("elasticc2/brokermessage/", "{\"alertId\": 101, \"diaSourceId\": 101, \"elasticcPublishTimestamp\": 1700000000000, \"brokerIngestTimestamp\": 1700000001500, \"brokerName\": \"TestBroker\", \"brokerVersion\": \"1.0\", \"classifierName\": \"RandomSNType\", \"classifierParams\": \"seed=1\", \"classifications\": [{\"classId\": 2222, \"probability\": 1e308}]}".replace("BIG", BIG)),
    ("elasticc/getalerts", '{"alertid": %s}' % BIG),
]


@pytest.mark.django_db(transaction=True)
def test_probe(client, django_user_model):
    load_followup_sample()
    user = django_user_model.objects.create_superuser("probe", password="pw-probe-123456")
    client.force_login(user)
    client.raise_request_exception = False
    out = []
    for url, body in CASES:
        method = client.put if "brokermessage" in url else client.post
        r = method("/" + url, body.encode("utf-8", "surrogatepass"), content_type="application/json")
        text = r.content[:160].decode("utf-8", "replace").replace("\n", " ")
        out.append(f"{r.status_code} {url} {body[:70]!r} -> {text}")
    print("\n".join(out))
