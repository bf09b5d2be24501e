#!/bin/bash
# strata-postgres: initialise PGDATA on first start, then run postgres in the foreground.
#   POSTGRES_PASSWORD   required: the password of POSTGRES_USER (scram-sha-256 over TCP)
#   POSTGRES_USER       the superuser the services connect as (default: strata)
#   POSTGRES_DATABASES  space-separated databases created on first start, owned by that user
# Extra arguments go to postgres (e.g. -c shared_buffers=64MB).
set -euo pipefail

user="${POSTGRES_USER:-strata}"
if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    echo "strata-postgres: POSTGRES_PASSWORD is not set; set it (the env file holds it)." >&2
    exit 2
fi
for name in "${user}" ${POSTGRES_DATABASES:-}; do
    if [[ ! "${name}" =~ ^[a-z_][a-z0-9_]*$ ]]; then
        echo "strata-postgres: '${name}' is not a plain lower-case SQL name; rename it." >&2
        exit 2
    fi
done

if [[ ! -s "${PGDATA}/PG_VERSION" ]]; then
    echo "strata-postgres: first start, initialising ${PGDATA}"
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD}" >"${pwfile}"
    initdb --pgdata="${PGDATA}" --username="${user}" --pwfile="${pwfile}" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "${pwfile}"
    # initdb allows loopback only: every other container of the stack's network, by password.
    printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' \
        >>"${PGDATA}/pg_hba.conf"
    # The databases are created on the socket alone, so nobody connects before they exist.
    pg_ctl --pgdata="${PGDATA}" --options="-c listen_addresses=''" --wait --silent start
    for db in ${POSTGRES_DATABASES:-}; do
        psql --quiet --no-psqlrc --set=ON_ERROR_STOP=1 --username="${user}" --dbname=postgres \
            --command="CREATE DATABASE \"${db}\" OWNER \"${user}\""
        echo "strata-postgres: created database ${db}"
    done
    pg_ctl --pgdata="${PGDATA}" --mode=fast --wait --silent stop
fi

exec postgres -D "${PGDATA}" -c listen_addresses='*' "$@"
