#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL (every database test runs
# on both). PostgreSQL comes from, in order: TSUNAGU_TEST_POSTGRES_URL, a
# server answering on 127.0.0.1:5432 (trust auth, user postgres), or a
# throwaway cluster started here from the PostgreSQL binaries. No backend is
# ever skipped: without PostgreSQL this fails and says how to get it.
# Extra arguments go to `cargo test` (e.g. tests/run.sh --test api oauth).
# The suite runs twice: as configured, then with one pooled connection per
# server (TSUNAGU_TEST_MAX_CONNECTIONS=1).
set -euo pipefail
cd "$(dirname "$0")/.."

pg_answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# What the tests need from Debian's packages, installed when missing (as root),
# otherwise named so the person running this can install it.
missing=()
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v npm >/dev/null || missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || [ -n "${CHROMEDRIVER:-}" ] || missing+=(chromium-driver)
# Japanese glyphs in the browser tests' screenshots (a person looks at them).
{ command -v fc-list >/dev/null && [ -n "$(fc-list :lang=ja 2>/dev/null)" ]; } || missing+=(fonts-ipafont-gothic)
if [ -z "${TSUNAGU_TEST_POSTGRES_URL:-}" ] && ! pg_answers 127.0.0.1 5432 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tests/run.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "tests/run.sh: the tests need these packages: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

cleanup() { :; }
trap 'cleanup' EXIT

if [ -z "${TSUNAGU_TEST_POSTGRES_URL:-}" ]; then
  if pg_answers 127.0.0.1 5432; then
    export TSUNAGU_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
      echo "tests/run.sh: no PostgreSQL answers on 127.0.0.1:5432 and no PostgreSQL binaries were found." >&2
      echo "Install them (Debian: apt-get install postgresql) or set TSUNAGU_TEST_POSTGRES_URL." >&2
      exit 1
    fi
    pgtmp=$(mktemp -d /tmp/tsunagu-pg.XXXXXX)
    port=54329
    as_pg=()
    # initdb refuses to run as root.
    if [ "$(id -u)" = 0 ]; then
      chown postgres "$pgtmp" 2>/dev/null || { useradd --system --no-create-home tsunagu-pg && chown tsunagu-pg "$pgtmp"; }
      owner=$(stat -c %U "$pgtmp")
      as_pg=(runuser -u "$owner" --)
    fi
    echo "tests/run.sh: starting a throwaway PostgreSQL from $bindir on 127.0.0.1:$port"
    "${as_pg[@]}" "$bindir/initdb" -D "$pgtmp/data" -U postgres --auth=trust >/dev/null
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgtmp/data" -l "$pgtmp/log" -w \
      -o "-p $port -k $pgtmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    cleanup() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgtmp/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pgtmp"; }
    export TSUNAGU_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  fi
fi
echo "tests/run.sh: PostgreSQL for tests: $TSUNAGU_TEST_POSTGRES_URL"

# The client acceptance tests' Python environment lives beside the build.
export TSUNAGU_TEST_VENV="${TSUNAGU_TEST_VENV:-${CARGO_TARGET_DIR:-$PWD/target}/test-venv}"

# Debug builds report a task that takes a second pooled connection while it
# holds one (how a pool starves); in the tests that is a panic.
export TSUNAGU_NESTED_CONNECTIONS="${TSUNAGU_NESTED_CONNECTIONS:-panic}"
cargo test "$@"
# Once more with one connection per pool: nothing may hold a connection while
# it waits for another or for the network.
echo "tests/run.sh: again with database.max_connections = 1"
TSUNAGU_TEST_MAX_CONNECTIONS=1 cargo test "$@"
