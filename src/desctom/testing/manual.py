"""Run a manual's Python examples against a live server, as a reader would paste them."""

from __future__ import annotations

import re
from pathlib import Path

#: How every manual's first example connects (to the README's default installation).
DEFAULT_SETUP = ('TomClient("http://127.0.0.1:8080", username="admin", '
                 'passwordfile="var/secrets/admin_password")')


def run_python_examples(doc: Path, url: str, username: str, password: str, min_blocks: int = 8) -> dict:
    """Execute every ```python block of ``doc`` in order, connected to ``url``; return their namespace.

    The first block must connect with :data:`DEFAULT_SETUP`; it is pointed at ``url`` and the given
    account instead. The examples assert their own results.
    """
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    assert len(blocks) >= min_blocks, f"{doc} has {len(blocks)} Python examples"
    assert DEFAULT_SETUP in blocks[0], f"the first example of {doc} does not connect as the README says"
    connect = f"TomClient({url!r}, username={username!r}, password={password!r})"
    blocks[0] = blocks[0].replace(DEFAULT_SETUP, connect)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(doc), "exec"), namespace)  # noqa: S102 - our own manual
    return namespace
