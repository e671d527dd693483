#!/usr/bin/env bash
# job-started.sh: runs before every job on a plain runner, as the instance's
# own user (runner-N), through actions/runner's job-started hook
# (ACTIONS_RUNNER_HOOK_JOB_STARTED in the runner's .env; docs.github.com
# "Running scripts before or after a job"). It checks what the fleet owes the
# job: the instance's own Docker answers, when it has one. When it does not,
# the job's log says so (a warning annotation) and the instance's count of
# setup failures goes up, in a folder of the instance's own that metrics.sh
# reads (as this user, as a number): Prometheus then tells the job failures
# that are the fleet's from the job's own. It never fails the job: a job that
# needs no Docker still runs.
#
# Settings (environment, from the runner): DOCKER_HOST (the instance's own
# Docker, when it has one).
set -u

[ "$(id -u)" != 0 ] || exit 0
spool="/var/lib/runner-fleet/jobs/$(id -un)"

if [ -n "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1; then
    for _ in $(seq 1 10); do
        timeout 10 docker info >/dev/null 2>&1 && exit 0
        sleep 2
    done
    echo "::warning::runner-fleet: this runner's own Docker (${DOCKER_HOST}) does not answer; steps that use Docker will fail. The fleet counts this as its fault (runner_fleet_job_setup_failures_total)."
    if [ -d "${spool}" ] && [ -w "${spool}" ]; then
        count="$(head -c 20 "${spool}/docker-failures" 2>/dev/null | tr -cd '0-9')"
        tmp="$(mktemp "${spool}/.docker-failures.XXXXXX")" &&
            printf '%s\n' "$((${count:-0} + 1))" >"${tmp}" && mv -f "${tmp}" "${spool}/docker-failures"
    fi
fi
exit 0
