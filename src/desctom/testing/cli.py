"""Run ``desctom`` commands as real subprocesses against the test database."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

#: The ``desctom`` entry point of the running virtual environment.
DESCTOM = str(Path(sys.executable).parent / "desctom")


def cli_env(**extra: str) -> dict:
    """This process's environment with ``DATABASE_URL`` pointing at Django's (test) database."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'] or '', safe='')}@"
                           f"{db['HOST']}:{db['PORT']}/{db['NAME']}")
    env.update(extra)
    return env
