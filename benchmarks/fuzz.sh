#!/usr/bin/env bash
# The schemathesis fuzz run of tests/apidocs/test_fuzz.py with many more examples per operation.
#
#   benchmarks/fuzz.sh [EXAMPLES] [ONLY]
#
# EXAMPLES: generated requests per operation (default 1000; the test suite runs 100).
# ONLY: a regular expression on "METHOD /path" to fuzz only some operations, e.g. 'elasticc2/(ltcv|cone)'.
# DESCTOM_FUZZ_NEGATIVE: invalid requests per operation (default: a tenth of EXAMPLES).
# Real PostgreSQL, real server (gunicorn on the test database), a superuser's token; prints each
# operation's calls, accepted calls, statuses and time, and every failure with a curl command.
set -euo pipefail
cd "$(dirname "$0")/.."
export DESCTOM_FUZZ_EXAMPLES="${1:-1000}"
export DESCTOM_FUZZ_ONLY="${2:-}"
export DESCTOM_FUZZ_NEGATIVE="${DESCTOM_FUZZ_NEGATIVE:-$((DESCTOM_FUZZ_EXAMPLES / 10))}"
exec .venv/bin/pytest tests/apidocs/test_fuzz.py -q -s -p no:cacheprovider -o log_cli=false
