#!/usr/bin/env bash
# job-cleanup.sh: runs after every job on a plain runner, as the runner user,
# through actions/runner's job-completed hook (ACTIONS_RUNNER_HOOK_JOB_COMPLETED
# in the runner's .env; docs.github.com "Running scripts before or after a
# job"). A runner that keeps its registration between jobs must not hand one
# job's files, containers or images to the next: this removes the job's
# workspace and temporary files, every container, and the images, volumes
# and networks they leave (the host's Docker Hub mirror makes the next pull
# cheap). It never fails the job.
#
# Settings (environment, from the runner): GITHUB_WORKSPACE, RUNNER_TEMP.
set -u

for dir in "${GITHUB_WORKSPACE:-}" "${RUNNER_TEMP:-}"; do
    if [ -n "${dir}" ] && [ -d "${dir}" ]; then
        find "${dir}" -mindepth 1 -delete 2>/dev/null || true
    fi
done
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    ids="$(docker ps -aq 2>/dev/null || true)"
    if [ -n "${ids}" ]; then
        # shellcheck disable=SC2086 # one id a word
        docker rm -f ${ids} >/dev/null 2>&1 || true
    fi
    docker system prune --all --volumes --force >/dev/null 2>&1 || true
fi
echo "runner-fleet: cleaned up after the job"
exit 0
