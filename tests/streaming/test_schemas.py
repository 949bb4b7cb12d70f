"""The Avro schemas built in code equal the published .avsc files."""

import fastavro
import pytest
from fastavro.schema import to_parsing_canonical_form

from desctom.survey import schemas
from desctom.testing.paths import SHARED_DATA

AVSC = SHARED_DATA / "schema"


@pytest.mark.parametrize("built, published", [
    (schemas.alert_schema, "elasticc.v0_9_1.alert.avsc"),
    (schemas.broker_classification_schema, "elasticc.v0_9_1.brokerClassification.avsc"),
])
def test_schema_equals_published_file(built, published):
    reference = fastavro.schema.load_schema(str(AVSC / published))
    assert to_parsing_canonical_form(built()) == to_parsing_canonical_form(reference)


def test_bytes_are_interchangeable_with_the_published_schema():
    reference = fastavro.schema.load_schema(str(AVSC / "elasticc.v0_9_1.brokerClassification.avsc"))
    record = {"alertId": 1, "diaSourceId": 2, "elasticcPublishTimestamp": 1700000000123,
              "brokerIngestTimestamp": None, "brokerName": "B", "brokerVersion": "1", "classifierName": "C",
              "classifierParams": "p", "classifications": [{"classId": 2222, "probability": 0.5}]}
    data = schemas.encode(schemas.broker_classification_schema(), record)
    import io

    back = fastavro.schemaless_reader(io.BytesIO(data), reference)
    assert back["alertId"] == 1 and back["classifications"] == [{"classId": 2222, "probability": 0.5}]
    assert back["elasticcPublishTimestamp"].timestamp() == pytest.approx(1700000000.123)
