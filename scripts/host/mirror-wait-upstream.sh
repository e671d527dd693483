#!/bin/sh
# mirror-wait-upstream.sh URL: returns once the registry at URL answers /v2/
# with any HTTP status (Docker Hub answers 401 there), checking every 10
# seconds and saying so once a minute at most. The mirror's unit runs it
# before the registry, which panics at start when the upstream gives no answer
# (distribution/distribution registry/proxy/proxyauth.go getAuthURLs).
#
# Run by hand: /usr/local/lib/runner-fleet/mirror-wait-upstream.sh https://registry-1.docker.io
set -u
url="${1:?the upstream registry URL}"
tries=0
until curl -sS --max-time 10 -o /dev/null "${url}/v2/" 2>/dev/null; do
    if [ $((tries % 6)) -eq 0 ]; then
        echo "runner-fleet: the upstream ${url} does not answer /v2/ yet; the mirror starts once it does (waited $((tries * 10))s)" >&2
    fi
    tries=$((tries + 1))
    sleep 10
done
[ "${tries}" -eq 0 ] || echo "runner-fleet: the upstream ${url} answers; starting the mirror" >&2
