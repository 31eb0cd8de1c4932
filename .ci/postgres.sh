# shellcheck shell=bash
# Throwaway PostgreSQL server for CI, sourced by .ci/run.
#
#   pg_find_bindir   set PG_BINDIR to a directory with initdb, pg_ctl and postgres
#                    (returns 1 if PostgreSQL's server programs are not installed)
#   pg_start         initdb a new cluster in a temporary directory, start it on
#                    127.0.0.1 and a free port, create the test role and database,
#                    and set PG_CI_URL to the SQLAlchemy async URL for the tests
#   pg_stop          stop that server and delete its directory (idempotent)
#
# The cluster never touches the system's own clusters (/var/lib/postgresql, port
# 5432): its data, socket and log all live under PG_CI_DIR, a fresh mktemp
# directory, so the script can run again and beside an existing server.
#
# Overridable from the environment: PG_BINDIR, PG_CI_PORT (default: a free port).

PG_CI_ROLE=sotay
PG_CI_PASSWORD=sotay
PG_CI_DB=sotay_test
PG_CI_DIR=
PG_CI_PORT=${PG_CI_PORT:-}
PG_CI_URL=
PG_CI_RUNAS=()

pg_find_bindir() {
    local d candidates=()
    if [[ -n ${PG_BINDIR:-} ]]; then
        candidates+=("$PG_BINDIR")
    fi
    # Debian's packages keep the server programs off PATH, one directory per major
    # version; take the newest.  Then whatever initdb is on PATH.
    while IFS= read -r d; do
        candidates+=("$d")
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV)
    if d=$(command -v initdb 2>/dev/null); then
        candidates+=("$(dirname "$d")")
    fi
    for d in ${candidates[@]+"${candidates[@]}"}; do
        if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
            PG_BINDIR=$d
            return 0
        fi
    done
    return 1
}

# psql: the one next to the server if there is one, else the one on PATH.
_pg_psql() {
    local psql=$PG_BINDIR/psql
    [[ -x $psql ]] || psql=psql
    "$psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

# Run a server program as the cluster's owner (initdb and postgres refuse root).
_pg_as_owner() {
    "${PG_CI_RUNAS[@]+"${PG_CI_RUNAS[@]}"}" "$@"
}

_pg_free_port() {
    python3 - <<'EOF'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
EOF
}

pg_start() {
    local owner data log port attempt
    pg_find_bindir || { echo "pg_start: no PostgreSQL server programs found" >&2; return 1; }

    if [[ $EUID -eq 0 ]]; then
        owner=postgres
        if ! id -u "$owner" >/dev/null 2>&1; then
            owner=sotay-ci-pg
            id -u "$owner" >/dev/null 2>&1 ||
                useradd --system --no-create-home --home-dir /nonexistent \
                    --shell /usr/sbin/nologin "$owner"
        fi
        PG_CI_RUNAS=(runuser -u "$owner" --)
    else
        owner=$(id -un)
        PG_CI_RUNAS=()
    fi

    PG_CI_DIR=$(mktemp -d /tmp/sotay-ci-pg.XXXXXX)
    [[ $EUID -eq 0 ]] && chown "$owner:" "$PG_CI_DIR"
    data=$PG_CI_DIR/data
    log=$PG_CI_DIR/postgres.log
    echo "PostgreSQL: $("$PG_BINDIR/postgres" --version) from $PG_BINDIR"
    echo "Cluster directory: $PG_CI_DIR (owner $owner)"

    # No locale (C collation), UTF-8 encoding; local socket trusted for the superuser,
    # TCP needs a password (scram), as in production.
    _pg_as_owner "$PG_BINDIR/initdb" --pgdata="$data" --username=postgres \
        --encoding=UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 \
        --no-sync >"$PG_CI_DIR/initdb.log" 2>&1 ||
        { cat "$PG_CI_DIR/initdb.log" >&2; return 1; }

    # Throwaway data: durability off for speed.
    cat >>"$data/postgresql.conf" <<EOF

# --- sotay CI ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_CI_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    # A port that is free now can be taken before the server binds it: retry.
    for attempt in 1 2 3 4 5; do
        port=${PG_CI_PORT:-$(_pg_free_port)}
        rm -f -- "$log"
        if _pg_as_owner "$PG_BINDIR/pg_ctl" --pgdata="$data" --log="$log" \
            --wait --timeout=60 --silent -o "-p $port" start; then
            PG_CI_PORT=$port
            break
        fi
        if [[ -z ${PG_CI_PORT:-} ]] && grep -q 'could not bind\|Address already in use' "$log" 2>/dev/null; then
            echo "Port $port was taken, trying another" >&2
            continue
        fi
        echo "pg_start: server did not start; its log:" >&2
        cat "$log" >&2 || true
        return 1
    done
    [[ -n ${PG_CI_PORT:-} ]] || { echo "pg_start: no free port" >&2; return 1; }
    echo "Listening on 127.0.0.1:$PG_CI_PORT (socket in $PG_CI_DIR)"

    _pg_psql -h "$PG_CI_DIR" -p "$PG_CI_PORT" -U postgres -d postgres <<EOF
CREATE ROLE $PG_CI_ROLE LOGIN CREATEDB PASSWORD '$PG_CI_PASSWORD';
CREATE DATABASE $PG_CI_DB OWNER $PG_CI_ROLE ENCODING 'UTF8' TEMPLATE template0;
EOF
    # Check the exact path the tests take: TCP, password, the test database.
    PGPASSWORD=$PG_CI_PASSWORD _pg_psql -h 127.0.0.1 -p "$PG_CI_PORT" -U "$PG_CI_ROLE" \
        -d "$PG_CI_DB" -At -c "SELECT 'connected as ' || current_user || ' to ' || current_database()"

    PG_CI_URL="postgresql+asyncpg://$PG_CI_ROLE:$PG_CI_PASSWORD@127.0.0.1:$PG_CI_PORT/$PG_CI_DB"
}

pg_stop() {
    [[ -n ${PG_CI_DIR:-} && -d $PG_CI_DIR ]] || return 0
    if [[ -f $PG_CI_DIR/data/postmaster.pid ]]; then
        _pg_as_owner "$PG_BINDIR/pg_ctl" --pgdata="$PG_CI_DIR/data" --wait --timeout=30 \
            --silent --mode=fast stop ||
            _pg_as_owner "$PG_BINDIR/pg_ctl" --pgdata="$PG_CI_DIR/data" --wait \
                --timeout=30 --silent --mode=immediate stop || true
    fi
    rm -rf -- "$PG_CI_DIR"
    echo "Stopped PostgreSQL and removed $PG_CI_DIR"
    PG_CI_DIR=
}
