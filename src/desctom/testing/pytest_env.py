"""pytest plugin loaded before Django settings are read (``-p desctom.testing.pytest_env``).

Points the test session at a throwaway data dir, so tests never read or write a developer's
``./var`` (secret key, passwords, databases), and allows Django's ORM next to Playwright's
event loop in the browser tests.
"""

import os
import signal
import tempfile

# A shell without job control starts background commands with SIGINT ignored (POSIX), and
# children inherit that: the tests that interrupt a command with Ctrl-C would see it ignored
# when the suite itself was started in the background (e.g. `nohup bash .ci/run &`).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

if not os.environ.get("DESCTOM_TEST_HOME"):
    os.environ["DESCTOM_TEST_HOME"] = tempfile.mkdtemp(prefix="desctom-test-")
    os.chmod(os.environ["DESCTOM_TEST_HOME"], 0o755)  # the `postgres` user must enter it when run as root
os.environ["DESCTOM_HOME"] = os.environ["DESCTOM_TEST_HOME"]
for _name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "DESCTOM_ADMIN_PASSWORD", "DJANGO_SECRET_KEY"):
    os.environ.pop(_name, None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desctom.settings")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
os.environ["DESCTOM_DB_CONN_MAX_AGE"] = "0"  # live-server threads must not pin the test database
# Many tests send wrong passwords from 127.0.0.1 on purpose (authorization matrix, fuzzing):
# throttling is tested where it is meant (tests/test_login_throttling.py), with its own limit.
os.environ.setdefault("DESCTOM_LOGIN_FAILURE_LIMIT", "1000000")
