#!/usr/bin/env bash
# job-cleanup.sh: runs after every job on a plain runner, as the instance's
# own user (runner-N), through actions/runner's job-completed hook
# (ACTIONS_RUNNER_HOOK_JOB_COMPLETED in the runner's .env; docs.github.com
# "Running scripts before or after a job"). A runner that keeps its
# registration between jobs must not hand one job's files, logins or
# containers to the next, which may be another repository's:
# - the job's workspace and temporary files go;
# - the user's home goes back to what useradd made (/etc/skel): Docker logins
#   (~/.docker/config.json), ~/.gitconfig, caches and anything else a job left;
# - every container, image, volume and network of the instance's own Docker
#   goes (its daemon serves this instance alone, so no other job's are there;
#   the host's Docker Hub mirror makes the next pull cheap).
# What a container wrote as another user of its own belongs to the user's
# subordinate ids, which the user alone cannot remove: it is removed in a user
# namespace that maps them (as rootless Docker maps them), never by root. It
# never fails the job.
#
# Settings (environment, from the runner): GITHUB_WORKSPACE, RUNNER_TEMP,
# DOCKER_HOST (the instance's own Docker, when it has one).
set -u

# Never as root: it empties its user's home.
[ "$(id -u)" != 0 ] || exit 0
user="$(id -un)"
home="$(getent passwd "${user}" | cut -d: -f6)"

# as_owner CMD...: CMD with the user's subordinate ids mapped, when it has them
# (util-linux unshare with newuidmap), so it can remove what its containers wrote.
as_owner() {
    local uid_range gid_range
    uid_range="$(awk -F: -v u="${user}" '$1 == u { print $2 "," 1 "," $3; exit }' /etc/subuid 2>/dev/null)"
    gid_range="$(awk -F: -v u="${user}" '$1 == u { print $2 "," 1 "," $3; exit }' /etc/subgid 2>/dev/null)"
    if [ -n "${uid_range}" ] && [ -n "${gid_range}" ] &&
        unshare --map-user=0 --map-group=0 --map-users="${uid_range}" --map-groups="${gid_range}" -- "$@" 2>/dev/null; then
        return 0
    fi
    "$@"
}

# empty DIR...: removes what each DIR holds, keeping DIR.
empty() {
    local dir
    for dir in "$@"; do
        if [ -n "${dir}" ] && [ -d "${dir}" ]; then
            as_owner find "${dir}" -mindepth 1 -delete 2>/dev/null || true
        fi
    done
}

if [ -n "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    ids="$(docker ps -aq 2>/dev/null || true)"
    if [ -n "${ids}" ]; then
        # shellcheck disable=SC2086 # one id a word
        docker rm -f ${ids} >/dev/null 2>&1 || true
    fi
    docker system prune --all --volumes --force >/dev/null 2>&1 || true
fi
empty "${GITHUB_WORKSPACE:-}" "${RUNNER_TEMP:-}"
if [ -n "${home}" ] && [ "${home}" != / ] && [ -d "${home}" ]; then
    empty "${home}"
    cp -a /etc/skel/. "${home}/" 2>/dev/null || true
fi
echo "runner-fleet: cleaned up after the job"
exit 0
