#!/usr/bin/env bash
# The contract test: schemathesis (every phase, stateful included) against a live `obliged
# serve`, once on SQLite and once on a fresh PostgreSQL database, with a token of role admin.
# It fails on a server error, a response or a status code the contract does not describe, or a
# request outside the contract that the server accepts (tests/contract/schemathesis.toml says
# which checks run and why).
#
# Python comes from a virtual environment built from the pinned requirements.txt (rebuilt when
# that file changes). Everything stays on this machine: the server listens on 127.0.0.1 only,
# schemathesis targets it there, and hooks.py points every webhook URL it generates at a closed
# loopback port. When the kernel allows it, each run happens in a network namespace of its own
# that has nothing but a loopback interface (PostgreSQL is then reached over its Unix socket).
#
# Environment: OBLIGED_CONTRACT_EXAMPLES (examples per operation and phase, default 50),
# OBLIGED_CONTRACT_SEED (a fixed seed, to replay a run; each run prints its seed),
# OBLIGED_CONTRACT_VENV (default ~/.cache/obliged-contract-venv), OBLIGED_CONTRACT_STORES
# (default "sqlite postgres"), PGHOST/PGPORT/PGUSER (default 127.0.0.1, 5432, postgres),
# PG_SOCKET_DIR (default /var/run/postgresql), OBLIGED_CONTRACT_NETNS=0 (no network namespace
# even where one could be made), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
here="$PWD/tests/contract"

examples="${OBLIGED_CONTRACT_EXAMPLES:-50}"
venv="${OBLIGED_CONTRACT_VENV:-$HOME/.cache/obliged-contract-venv}"
stores="${OBLIGED_CONTRACT_STORES:-sqlite postgres}"
pg_host="${PGHOST:-127.0.0.1}"
pg_port="${PGPORT:-5432}"
pg_user="${PGUSER:-postgres}"
pg_socket_dir="${PG_SOCKET_DIR:-/var/run/postgresql}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/obliged-target}"

log() { echo "contract: $*" >&2; }

# Runs one store's round: serve, make a token, run schemathesis, stop. Runs inside the
# namespace when there is one; prints the server's log if anything failed.
round() {
  local name=$1 url=$2 dir="$work/$1"
  mkdir -p "$dir"
  # Webhook URLs are pointed at a closed loopback port (hooks.py), which the egress policy
  # refuses unless allowed: allowed here, so subscriptions are made and exercised.
  "$bin" serve --database-url "$url" --master-key-file "$dir/master.key" \
    --webhook-allow 127.0.0.1 --listen 127.0.0.1:0 >"$dir/serve.out" 2>"$dir/serve.log" &
  local server=$!
  local address=""
  for _ in $(seq 1 120); do
    address="$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$dir/serve.out")"
    [ -n "$address" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.5
  done
  if [ -z "$address" ]; then
    log "$name: the server did not start"
    cat "$dir/serve.log" >&2
    kill "$server" 2>/dev/null || true
    return 1
  fi
  local token=""
  token="$("$bin" token create --database-url "$url" --master-key-file "$dir/master.key" \
    --role admin --name contract 2>"$dir/token.log" | tail -n 1)" || true
  if [ -z "$token" ]; then
    log "$name: no token could be made"
    cat "$dir/token.log" >&2
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" || true
    return 1
  fi
  log "$name: schemathesis against $address ($examples examples per operation and phase)"
  local status=0 seed=()
  if [ -n "${OBLIGED_CONTRACT_SEED:-}" ]; then
    seed=(--seed "$OBLIGED_CONTRACT_SEED")
  fi
  # In the round's scratch directory, where schemathesis and Hypothesis keep their caches. One
  # worker: Hypothesis is not safe to run in threads on every Python 3.11.
  (
    cd "$dir"
    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$here" "$venv/bin/schemathesis" \
      --config-file "$here/schemathesis.toml" \
      run "$address/api/openapi.json" \
      --header "Authorization: Bearer $token" \
      --max-examples "$examples" \
      "${seed[@]}" \
      --workers 1 \
      --no-color
  ) || status=$?
  kill -TERM "$server"
  wait "$server" || true
  if grep -q "panicked" "$dir/serve.log"; then
    log "$name: the server panicked"
    status=1
  fi
  if [ "$status" -ne 0 ]; then
    log "$name: failed; the server's log follows"
    tail -n 200 "$dir/serve.log" >&2
  fi
  return "$status"
}

# Inside the network namespace: one round (see below).
if [ "${1:-}" = "--round" ]; then
  shift
  work="$1"; bin="$2"
  ip link set lo up
  round "$3" "$4"
  exit $?
fi


# --- The pinned Python environment.
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$venv/.requirements-sha256" 2>/dev/null || true)" != "$want" ]; then
  log "building the Python environment in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
    -r "$here/requirements.txt"
  "$venv/bin/pip" check --disable-pip-version-check
  echo "$want" >"$venv/.requirements-sha256"
fi

# --- The server.
log "building obliged"
cargo build --quiet --bin obliged
bin="$CARGO_TARGET_DIR/debug/obliged"

# A namespace with only a loopback interface, if this kernel and user may make one.
isolated=0
if [ "${OBLIGED_CONTRACT_NETNS:-auto}" != 0 ] &&
  unshare --net sh -c 'ip link set lo up' >/dev/null 2>&1; then
  isolated=1
fi

work="$(mktemp -d)"
databases=()
cleanup() {
  for database in "${databases[@]}"; do
    dropdb --if-exists -h "$pg_host" -p "$pg_port" -U "$pg_user" "$database" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

failed=()
for store in $stores; do
  case "$store" in
    sqlite)
      url="sqlite://$work/sqlite/obliged.db"
      ;;
    postgres)
      database="obliged_contract_$(date +%s)_$$"
      createdb -h "$pg_host" -p "$pg_port" -U "$pg_user" "$database"
      databases+=("$database")
      if [ "$isolated" = 1 ]; then
        url="postgres://$pg_user@localhost/$database?host=$pg_socket_dir&port=$pg_port"
      else
        url="postgres://$pg_user@$pg_host:$pg_port/$database"
      fi
      ;;
    *)
      log "unknown store $store"
      exit 2
      ;;
  esac
  started=$SECONDS
  if [ "$isolated" = 1 ]; then
    OBLIGED_CONTRACT_EXAMPLES="$examples" OBLIGED_CONTRACT_VENV="$venv" \
      unshare --net "$0" --round "$work" "$bin" "$store" "$url" || failed+=("$store")
  else
    log "no network namespace here: relying on hooks.py to keep webhooks on loopback"
    round "$store" "$url" || failed+=("$store")
  fi
  log "$store: done in $((SECONDS - started)) s"
done

if [ "${#failed[@]}" -ne 0 ]; then
  log "FAILED on: ${failed[*]}"
  exit 1
fi
log "the server keeps its contract on: $stores"
