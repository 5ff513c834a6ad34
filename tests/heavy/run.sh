#!/usr/bin/env bash
# The heavy variants of the crash and outage tests (tests/crash.rs, names starting `heavy_`):
# they stop and start the PostgreSQL server itself while the binary is under load, so they never
# run in the normal suite, where they report themselves skipped. Run them as root (they call
# pg_ctlcluster) when nothing else needs that PostgreSQL for a minute.
#
#   tests/heavy/run.sh                # the cluster `main` of the installed version, port 5432
#
#   # A scratch cluster of its own instead, leaving the shared one alone:
#   pg_createcluster 15 scratch --port 5433 --start   # with trust auth for 127.0.0.1
#   OBLIGED_HEAVY_PG_CLUSTER="15 scratch" \
#   OBLIGED_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5433/postgres tests/heavy/run.sh
#
# PostgreSQL is started again when the script ends, whether the tests passed, failed or were
# interrupted (the test also starts it again itself when it fails half-way).
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/obliged-target}"
if [ -z "${OBLIGED_HEAVY_PG_CLUSTER:-}" ]; then
  OBLIGED_HEAVY_PG_CLUSTER="$(ls /etc/postgresql | sort | head -n 1) main"
fi
export OBLIGED_HEAVY=1 OBLIGED_HEAVY_PG_CLUSTER

restore_postgres() {
  # "VERSION NAME" is two arguments. Starting a running cluster fails harmlessly.
  # shellcheck disable=SC2086
  pg_ctlcluster --skip-systemctl-redirect $OBLIGED_HEAVY_PG_CLUSTER start >/dev/null 2>&1 || true
}
trap restore_postgres EXIT INT TERM

echo "heavy: stopping (fast, then immediate) and starting PostgreSQL cluster $OBLIGED_HEAVY_PG_CLUSTER under load"
# One at a time: each stops the same cluster.
cargo nextest run --workspace --no-fail-fast --test-threads 1 -E 'test(/heavy_/)'
