"""Pickled query results load with old pandas: the stream holds only plain Python values and a
few known globals, and a separate virtual environment with pandas 2.x, numpy 1.26 and no pyarrow
downloads a real result over HTTP and reads it with ``pandas.read_pickle``.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import os
import pickletools
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import requests
from conftest import PASSWORD

from desctom.db.queries.portable_pickle import GLOBALS, DataFrameWriter

#: Client versions the pickle must load with (the issue: pandas 2.2 + numpy 1.26 failed).
OLD_CLIENTS = [("2.0.3", "1.26.4"), ("2.2.3", "1.26.4")]
#: Every type of the sample table, a duplicate column name, and integers with NULLs (float64).
QUERY = ("SELECT s.*, c.note, c.parent_id AS id FROM elasticc2_sqltest s "
         "LEFT JOIN elasticc2_sqltestchild c ON c.parent_id = s.id ORDER BY s.id")
#: Run by the client's Python: fetch the result over HTTP, unpickle it, print dtypes and values as JSON.
CLIENT_SCRIPT = r"""
import base64, io, json, math, sys, urllib.request
import pandas as pd
url, user, password = sys.argv[1:4]
auth = base64.b64encode(f"{user}:{password}".encode()).decode()
req = urllib.request.Request(url, data=b"", method="POST", headers={"Authorization": f"Basic {auth}"})
content = urllib.request.urlopen(req, timeout=60).read()
frame = pd.read_pickle(io.BytesIO(content))

def plain(v):
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if v is None or (not isinstance(v, (str, bytes)) and pd.isna(v)):
        return None
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v.item() if hasattr(v, "item") else v

rows = [[plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
try:
    import pyarrow  # noqa: F401
    has_pyarrow = True
except ImportError:
    has_pyarrow = False
import numpy
print(json.dumps({"pandas": pd.__version__, "numpy": numpy.__version__, "pyarrow": has_pyarrow,
                  "columns": list(frame.columns), "dtypes": [str(t) for t in frame.dtypes], "rows": rows}))
"""


def stream_globals(data: bytes) -> list[tuple[str, str]]:
    """(module, name) of every global the pickle refers to; fails on any other way to import."""
    found, strings = [], []
    for op, arg, _ in pickletools.genops(data):
        assert op.name not in ("GLOBAL", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4",
                               "PERSID", "BINPERSID", "BUILD"), op.name
        if op.name == "STACK_GLOBAL":
            found.append(tuple(strings[-2:]))
        strings.append(arg if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8") else None)
    return found


def test_the_stream_refers_only_to_dataframe_and_datetime():
    utc = datetime.UTC
    table = pa.table({
        "n": pa.array([1, None, -(2**63), 2**40], pa.int64()), "t": ["a", None, "é" * 300, ""],
        "r": pa.array([0.1, None, float("nan"), 1e30], pa.float32()),
        "ts": pa.array([datetime.datetime(2024, 3, 28, 17, 5, 1, 123456, tzinfo=utc), None, None, None],
                       pa.timestamp("us", tz="UTC")),
        "d": pa.array([datetime.date(2024, 1, 2), None, None, None]),
        "l": pa.array([[1, 2], [], None, [3]]), "b": [True, False, None, True]})
    buf = io.BytesIO()
    writer = DataFrameWriter(buf, table.column_names)
    for batch in table.to_batches(max_chunksize=3):
        writer.write(pa.Table.from_batches([batch]))
    writer.close()
    data = buf.getvalue()
    assert data[:2] == b"\x80\x04"  # protocol 4
    assert set(stream_globals(data)) <= set(GLOBALS) and ("pandas", "DataFrame") in stream_globals(data)
    frame = pd.read_pickle(io.BytesIO(data))
    assert list(frame.columns) == ["n", "t", "r", "ts", "d", "l", "b"] and len(frame) == 4
    assert str(frame["n"].dtype) == "float64" and frame["n"][3] == 2**40
    assert str(frame["r"].dtype) == "float64" and frame["r"][0] == 0.1 and math.isnan(frame["r"][2])
    assert str(frame["ts"].dtype).startswith("datetime64[") and str(frame["ts"].dt.tz) == "UTC"
    assert frame["ts"][0] == pd.Timestamp("2024-03-28T17:05:01.123456Z") and pd.isna(frame["ts"][1])
    assert frame["t"][2] == "é" * 300 and frame["d"][0] == datetime.date(2024, 1, 2)
    assert frame["l"][0] == [1, 2] and frame["l"][2] is None and frame["b"][2] is None


def test_an_empty_result_keeps_its_columns_and_no_columns_is_a_frame_too():
    for names in (["id", "id", "name"], []):
        buf = io.BytesIO()
        writer = DataFrameWriter(buf, names)
        writer.write(pa.Table.from_arrays([pa.array([], pa.int64()) for _ in names], names=names))
        writer.close()
        frame = pd.read_pickle(io.BytesIO(buf.getvalue()))
        assert list(frame.columns) == names and len(frame) == 0


def old_pandas_python(pandas_version: str, numpy_version: str) -> Path:
    """The Python of a cached virtual environment with exactly these versions and no pyarrow."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "desctom-test-oldpandas"
    key = f"py{sys.version_info[0]}.{sys.version_info[1]}-pandas{pandas_version}-numpy{numpy_version}"
    target = cache / key
    if (target / "ready").exists():
        return target / "bin" / "python"
    building = cache / f"{key}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, timeout=300)
    install = subprocess.run(
        [str(building / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--only-binary=:all:", f"pandas=={pandas_version}", f"numpy=={numpy_version}"],
        capture_output=True, text=True, timeout=900)
    if install.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        text = install.stderr + install.stdout
        if any(s in text for s in ("NewConnectionError", "Temporary failure in name resolution",
                                   "Network is unreachable", "ConnectTimeout", "ProxyError",
                                   "No matching distribution found")):
            pytest.skip(f"pip cannot reach the package registry: {text.strip().splitlines()[-1]}")
        pytest.fail(f"pip install failed:\n{text}")
    (building / "ready").touch()
    try:
        building.rename(target)
    except OSError:  # another run made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return target / "bin" / "python"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("pandas_version", "numpy_version"), OLD_CLIENTS)
def test_old_pandas_reads_a_result_downloaded_over_http(live_server, science_tables, tmp_path, monkeypatch,
                                                        pandas_version, numpy_version):
    from django.contrib.auth.models import User

    from desctom.db.workers.long_query_runner import Runner

    python = old_pandas_python(pandas_version, numpy_version)
    monkeypatch.setenv("DESCTOM_SQL_RESULTS_DIR", str(tmp_path / "results"))
    User.objects.create_user("oldpandas", password=PASSWORD)
    submitted = requests.post(f"{live_server.url}/db/submitsqlquery/", auth=("oldpandas", PASSWORD),
                              json={"query": QUERY, "format": "pandas"}, timeout=30).json()
    assert submitted["status"] == "ok", submitted
    runner = Runner()
    try:
        assert runner.run_once().queryid == submitted["queryid"]
    finally:
        runner.close()
    url = f"{live_server.url}/db/getsqlqueryresults/{submitted['queryid']}/"
    out = subprocess.run([str(python), "-c", CLIENT_SCRIPT, url, "oldpandas", PASSWORD],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["pandas"], got["numpy"], got["pyarrow"]) == (pandas_version, numpy_version, False)
    assert got["columns"] == ["id", "name", "flag", "mag", "flux", "seen", "day", "amount", "classid",
                              "probability", "blob", "extra", "note", "id"]
    dtypes = dict(zip(got["columns"][:-1], got["dtypes"][:-1], strict=True))
    assert got["dtypes"][-1] == "float64"  # an integer column with NULLs, as pandas makes it
    assert dtypes == {"id": "int64", "name": "object", "flag": "object", "mag": "float64", "flux": "float64",
                      "seen": "datetime64[ns, UTC]", "day": "object", "amount": "float64",
                      "classid": "object", "probability": "object", "blob": "object", "extra": "object",
                      "note": "object"}
    first, second, third = got["rows"][:3]
    assert first[:10] == [1, "SN Ia", True, 21.5, 1234.5, "2024-03-28T17:05:01.123456+00:00", "2024-03-28",
                          1.25, [111, 112], [0.75, 0.25]]
    assert first[11:] == ['{"a": 1}', "x", 1]
    assert second[:10] == [2, "AGN", False, None, "inf", None, None, None, [], None]
    assert second[12:] == [None, None] and third[2] is None and third[8] == [2222]
    assert [row[0] for row in got["rows"]] == [1, 2, 3, 4]
