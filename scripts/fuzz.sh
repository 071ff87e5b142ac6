#!/usr/bin/env bash
# Fuzz the API with schemathesis, once per role, against a served instance on a fresh database.
#
#   scripts/fuzz.sh                      # every role, small budget (10 to 15 minutes)
#   FUZZ_MAX_EXAMPLES=100 scripts/fuzz.sh
#   FUZZ_ROLES="educator admin" scripts/fuzz.sh
#
# It creates a database with a unique name on the PostgreSQL server of
# MENTORAT_FUZZ_DATABASE_URL, migrates it, loads the demo data, serves the API on FUZZ_PORT,
# makes a run, proposals and a mentorship and creates one token per role (scripts/fuzz_seed.py,
# which also writes the schemathesis configuration naming those records), runs
# `schemathesis run --checks all` with the stateful phase for each role, prints a summary
# (FUZZ_REPORT_DIR/summary.txt) and drops the database. It exits non-zero when any role
# met a server error (5xx). Every other failure is listed in the reports of FUZZ_REPORT_DIR.
#
# Settings (environment):
#   MENTORAT_FUZZ_DATABASE_URL  server to create the throw-away database on
#                               (default postgresql://postgres@127.0.0.1:5432/postgres)
#   FUZZ_PORT                   port to serve on (default 18480)
#   FUZZ_MAX_EXAMPLES           schemathesis --max-examples per operation (default 5)
#   FUZZ_PHASES                 schemathesis --phases (default examples,coverage,fuzzing,stateful)
#   FUZZ_SEED                   schemathesis --seed, for a reproducible run (default 53)
#   FUZZ_ROLES                  roles to fuzz, in order (default: all five, admin last)
#   FUZZ_ROLE_TIMEOUT           seconds allowed per role before it is stopped (default 900)
#   FUZZ_REPORT_DIR             where reports and the server log go (default fuzz-report)
#   FUZZ_EXTRA_ARGS             more arguments for `schemathesis run`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FUZZ_VENV:-$ROOT/.venv}"
SERVER_URL="${MENTORAT_FUZZ_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
PORT="${FUZZ_PORT:-18480}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-5}"
PHASES="${FUZZ_PHASES:-examples,coverage,fuzzing,stateful}"
SEED="${FUZZ_SEED:-53}"
ROLES="${FUZZ_ROLES:-mentor coordinator educator departement_manager admin}"
ROLE_TIMEOUT="${FUZZ_ROLE_TIMEOUT:-900}"
REPORT_DIR="${FUZZ_REPORT_DIR:-$ROOT/fuzz-report}"
BASE="http://127.0.0.1:$PORT"

if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import mentorat, schemathesis" 2>/dev/null; then
    "$VENV/bin/pip" install -q -e "$ROOT[fuzz]"
fi
PY="$VENV/bin/python"
MENTORAT="$VENV/bin/mentorat"
SCHEMATHESIS="$VENV/bin/schemathesis"

DB_NAME="mentorat_fuzz_$(date +%s)_$$"
export MENTORAT_DATABASE_URL
MENTORAT_DATABASE_URL="$("$PY" - "$SERVER_URL" "$DB_NAME" <<'EOF'
import sys
from sqlalchemy.engine import make_url
print(make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))
EOF
)"
export MENTORAT_LOG_JSON=false MENTORAT_LOG_LEVEL="${MENTORAT_LOG_LEVEL:-WARNING}"
# schemathesis sends bad tokens on purpose (its authentication checks): do not lock it out.
export MENTORAT_AUTH_FAILURE_LIMIT=0

database() {  # database create|drop
    "$PY" - "$SERVER_URL" "$DB_NAME" "$1" <<'EOF'
import asyncio, sys
import asyncpg
from sqlalchemy.engine import make_url

server, name, action = sys.argv[1:]
dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)

async def main() -> None:
    connection = await asyncpg.connect(dsn)
    try:
        if action == "create":
            await connection.execute(f'CREATE DATABASE "{name}"')
        else:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()

asyncio.run(main())
EOF
}

SERVER_PID=""
cleanup() {
    local status=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    database drop || echo "could not drop database $DB_NAME" >&2
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$REPORT_DIR"
database create
echo "database $DB_NAME created" >&2
"$MENTORAT" migrate
"$MENTORAT" demo 2>/dev/null

token() {  # token ROLE [scope options...]
    local role="$1"
    shift
    "$MENTORAT" tokens create --role "$role" --name "Fuzz $role" "$@" 2>/dev/null | tail -n 1
}

"$MENTORAT" serve --host 127.0.0.1 --port "$PORT" >"$REPORT_DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server did not start:" >&2; cat "$REPORT_DIR/server.log" >&2; exit 1; }
    sleep 0.3
done
curl -fsS "$BASE/readyz" >/dev/null

declare -A TOKENS
TOKENS[admin]="$(token admin)"
TOKENS[departement_manager]="$(token departement_manager --departement 53)"
TOKENS[educator]="$(token educator --departement 53)"
# A run, proposals, a mentorship...; tokens for that mentorship's mentor and association; and
# a schemathesis configuration naming those records.
CONFIG="$REPORT_DIR/schemathesis.toml"
while read -r role secret; do
    TOKENS[$role]="$secret"
done < <(
    FUZZ_TOKEN_ADMIN="${TOKENS[admin]}" FUZZ_TOKEN_MANAGER="${TOKENS[departement_manager]}" \
        FUZZ_TOKEN_EDUCATOR="${TOKENS[educator]}" "$PY" "$ROOT/scripts/fuzz_seed.py" "$BASE" "$CONFIG"
)
[[ -n "${TOKENS[coordinator]:-}" && -n "${TOKENS[mentor]:-}" ]] || { echo "seeding failed" >&2; exit 1; }

declare -A EXIT_CODES
for role in $ROLES; do
    echo "=== $role ===" >&2
    set +e
    timeout --signal=INT "$ROLE_TIMEOUT" "$SCHEMATHESIS" --config-file "$CONFIG" run "$BASE/openapi.json" \
        --checks all \
        --phases "$PHASES" \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --workers 1 \
        --no-color \
        --suppress-health-check all \
        --generation-database none \
        -H "Authorization: Bearer ${TOKENS[$role]}" \
        --report junit,ndjson \
        --report-junit-path "$REPORT_DIR/$role.junit.xml" \
        --report-ndjson-path "$REPORT_DIR/$role.ndjson" \
        ${FUZZ_EXTRA_ARGS:-} \
        >"$REPORT_DIR/$role.txt" 2>&1
    EXIT_CODES[$role]=$?
    set -e
    # The token must have survived the run (an admin may revoke tokens, its own included).
    if ! curl -fsS -o /dev/null -H "Authorization: Bearer ${TOKENS[$role]}" "$BASE/v1/vocabulary/goals"; then
        echo "warning: the $role token no longer works after its run" | tee -a "$REPORT_DIR/$role.txt" >&2
    fi
done

SUMMARY="$REPORT_DIR/summary.txt"
: >"$SUMMARY"
for role in $ROLES; do
    "$PY" "$ROOT/scripts/fuzz_summary.py" "$role" "${EXIT_CODES[$role]}" "$REPORT_DIR/$role.txt" >>"$SUMMARY"
done
# A backstop for what schemathesis may not attribute: every unhandled error the server logged.
UNHANDLED="$(grep -c 'unhandled error' "$REPORT_DIR/server.log" || true)"
echo "server log: $UNHANDLED unhandled errors (tracebacks in server.log)" >>"$SUMMARY"
echo >&2
cat "$SUMMARY" >&2
echo "reports: $REPORT_DIR (summary.txt, <role>.txt, <role>.junit.xml, <role>.ndjson, server.log)" >&2
if grep -Eq '^[a-z_]+: exit [0-9]+, [1-9][0-9]* server errors' "$SUMMARY" || ((UNHANDLED > 0)); then
    echo "server errors found" >&2
    exit 1
fi
