#!/bin/bash
# strata-redis: run redis-server with /etc/redis/strata.conf and REDIS_PASSWORD as requirepass.
# The password goes in on standard input (redis-server's `-` argument), so neither `ps` nor
# a file shows it. Extra arguments go to redis-server (e.g. --maxmemory 256mb).
set -euo pipefail

if [[ -z "${REDIS_PASSWORD:-}" ]]; then
    echo "strata-redis: REDIS_PASSWORD is not set; set it (the env file holds it)." >&2
    exit 2
fi
if [[ "${REDIS_PASSWORD}" =~ [[:space:]\"\'\\] ]]; then
    echo "strata-redis: REDIS_PASSWORD holds spaces, quotes or backslashes; generate another." >&2
    exit 2
fi

exec redis-server /etc/redis/strata.conf "$@" - <<<"requirepass \"${REDIS_PASSWORD}\""
