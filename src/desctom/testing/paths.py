"""Where the test suite finds the project and the shared data (``../shared/data`` beside the checkout)."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = Path(os.environ.get("DESCTOM_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
