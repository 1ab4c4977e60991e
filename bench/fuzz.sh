#!/usr/bin/env bash
# The fuzz suites (tests/fuzz) under the "long" hypothesis profile: many more examples, random,
# with an example database (so a failure found once is tried first next time).
#
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/9 bench/fuzz.sh
#
# Without DATABASE_URL / REDIS_URL the tests start the embedded PostgreSQL and Redis. The Redis
# database named is flushed. PULSE_FUZZ_EXAMPLES=<n> sets the examples per test; extra
# arguments go to pytest (for example `-k collect` or `-x`). CI runs the same tests under the
# bounded "ci" profile as part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PULSE_FUZZ_PROFILE=long
exec "${VENV:-.venv}/bin/pytest" tests/fuzz -q -p no:cacheprovider --durations=5 "$@"
