#!/usr/bin/env bash
# runner-service.sh N: the root supervisor of runner instance N, run by
# runner-fleet-runner@N.service. It unpacks the runner, registers it when its
# registration is missing or was made with other settings (the token goes to
# config.sh in ACTIONS_RUNNER_INPUT_TOKEN, never on a command line), and runs
# it as the unprivileged runner user.
#
# Stopping: a running job first gets DRAIN_TIMEOUT seconds to finish (a
# reboot or a stop by hand cuts no job off); then, as actions/runner's own
# service does (src/Misc/layoutbin: actions.runner.service.template,
# runsvc.sh, RunnerService.js), systemd's SIGTERM becomes a SIGINT to
# Runner.Listener only, which cancels a job still running, lets the worker
# report it, and exits; SIGKILL comes only if it has not exited STOP_GRACE
# seconds later.
#
# The registration token comes from install-github-runner.sh (minted where
# pulumi runs, root-only, used once). Only with EPHEMERAL=1 does the host keep
# github-runner-token, to register again with the API after every job.
#
# Settings: /etc/runner-fleet/runner.env (written by install-github-runner.sh);
# STOP_GRACE (default 30).
#
# Root and the runner's folder (/opt/runner-fleet/runner-N, owned by the
# runner user, so by every job): root never executes, reads as trusted or
# writes through anything in it. What root does there, and how:
# - unpack: removes the folder (rm -rf removes links, never follows them;
#   /opt/runner-fleet is root's, so the folder itself cannot be swapped),
#   unpacks the release into a fresh root-owned folder, then hands it over
#   with chown -hR (links changed, never followed);
# - reads .runner-fleet-version and .runner-fleet-registration as the runner
#   (as_user): a job can fake them only to its own runner, and a link planted
#   there reads nothing of root's;
# - writes .env (at every start) and .runner-fleet-registration as the runner, by rename
#   (write_as): a link planted there is replaced, not written through;
# - removes .runner and the credentials before registering (rm -f removes a
#   link, never its target);
# - runs config.sh and run.sh as the runner (setpriv), and signals the
#   runner's process group to stop it.
# check.sh reads the runner's version as the runner too; remove-github-runner.sh
# and install-github-runner.sh only remove the folder and the user.
set -euo pipefail
. "$(dirname "$0")/common.sh"

i="${1:?usage: runner-service.sh N}"
# shellcheck disable=SC1091
[ -n "${GITHUB_ORG:-}" ] || . /etc/runner-fleet/runner.env
name="${RUNNER_FLEET_HOST}-${i}"
dir="/opt/runner-fleet/runner-${i}"
registered="${STATE_DIR}/runner-${i}.registered"
failed="${STATE_DIR}/runner-${i}.failed"
# Set when GitHub no longer knows the runner; the install clears it (check.sh reports it).
unregistered="${STATE_DIR}/runner-${i}.unregistered"
user="$(runner_user "${i}")"
grace="${STOP_GRACE:-30}"
ephemeral="$(setting EPHEMERAL)"
install_docker="$(setting INSTALL_DOCKER)"
drain_timeout="$(setting DRAIN_TIMEOUT)"
# The job hooks the unit names (install-github-runner.sh): a check before each job, the clean-up after.
started_hook="${JOB_STARTED_HOOK:-$(dirname "$0")/job-started.sh}"
completed_hook="${JOB_COMPLETED_HOOK:-$(dirname "$0")/job-cleanup.sh}"
# What a registration was made with: runner.env's settings.
wanted="$(sha256sum /etc/runner-fleet/runner.env | cut -d' ' -f1)"

# Runs a command as the runner user (exported variables pass, as the token does, never as arguments).
as_runner() {
    HOME="/home/${user}" USER="${user}" LOGNAME="${user}" setpriv --reuid "${user}" --regid "${user}" --init-groups -- "$@"
}

# A registration token: the one this install was sent; with EPHEMERAL=1 and
# the sent one used up, a new one from the API.
registration_token() {
    local sent="${SECRETS_DIR}/registration/registration-token"
    if [ -s "${sent}" ]; then
        cat "${sent}"
    elif [ "${ephemeral}" = 1 ]; then
        github_api POST "/orgs/${GITHUB_ORG}/actions/runners/registration-token" | json_field token
    fi
}

# unpack: the release, unless the folder holds it already, as this instance's
# user (a folder an earlier layout gave another user is unpacked anew).
unpack() {
    if [ -x "${dir}/run.sh" ] && [ "$(stat -c %U "${dir}")" = "${user}" ] &&
        [ "$(as_user "${user}" cat "${dir}/.runner-fleet-version" 2>/dev/null)" = "${RUNNER_VERSION}" ]; then
        return 0
    fi
    rm -rf "${dir}"
    mkdir -p "${dir}"
    tar -xzf "${RUNNER_ARCHIVE}" -C "${dir}"
    echo "${RUNNER_VERSION}" >"${dir}/.runner-fleet-version"
    chown -hR "${user}:" "${dir}"
}

configure() {
    local args=(--unattended --url "${GITHUB_URL}/${GITHUB_ORG}" --name "${name}" --labels "${LABELS}"
        --runnergroup "${RUNNER_GROUP}" --no-default-labels --replace --work _work)
    [ "${ephemeral}" = 1 ] && args+=(--ephemeral)
    ACTIONS_RUNNER_INPUT_TOKEN="$(registration_token)"
    if [ -z "${ACTIONS_RUNNER_INPUT_TOKEN}" ]; then
        # Nothing here can register it: stop (the unit does not restart on 78) instead of trying every few seconds.
        [ -f "${unregistered}" ] || printf '%s no registration token on the host\n' "$(date -u +%FT%TZ)" >"${unregistered}"
        log "runner ${name} has no registration and no token to register with (tokens are minted where pulumi runs); it stays stopped until pulumi up registers it"
        exit 78
    fi
    # The registration this instance held goes now: the install waits for the new one, never for the record of the old.
    rm -f "${dir}/.runner" "${dir}/.credentials" "${dir}/.credentials_rsaparams" "${failed}" "${registered}"
    local out rc=0
    out="$(cd "${dir}" && export ACTIONS_RUNNER_INPUT_TOKEN && as_runner ./config.sh "${args[@]}" 2>&1)" || rc=$?
    local ACTIONS_RUNNER_INPUT_TOKEN_USED="${ACTIONS_RUNNER_INPUT_TOKEN}"
    unset ACTIONS_RUNNER_INPUT_TOKEN
    printf '%s\n' "${out}" >&2
    if [ "${rc}" -ne 0 ]; then
        # The install waits for this instance: tell it at once why registration failed, and with which token.
        printf '%s config.sh exited %s: %s\n' "$(printf '%s' "${ACTIONS_RUNNER_INPUT_TOKEN_USED}" | sha256sum | cut -c1-16)" \
            "${rc}" "$(tail -n 1 <<<"${out}")" >"${failed}"
        die "runner ${name} did not register: $(tail -n 1 <<<"${out}")"
    fi
    rm -f "${unregistered}"
    printf '%s\n' "${wanted}" | write_as "${user}" "${dir}/.runner-fleet-registration"
}

# registration_deleted: whether the listener's newest log says GitHub deleted
# this runner (before 2.336.0 it keeps .runner and .credentials then: its
# session is refused, MessageListener.cs). Read as the runner, as everything
# in the runner's folder is; the configuration it kept is removed, as 2.336.0
# removes it itself.
registration_deleted() {
    # shellcheck disable=SC2016 # expanded by the inner shell
    as_user "${user}" sh -c 'cd "$1" && f="$(ls -t _diag/Runner_*.log 2>/dev/null | head -n 1)" && [ -n "$f" ] && tail -n 50 "$f"' sh "${dir}" 2>/dev/null |
        grep -e 'registration has been deleted from the server' -e 'no longer exists on the server' >/dev/null || return 1
    rm -f "${dir}/.runner" "${dir}/.credentials" "${dir}/.credentials_rsaparams"
}

child=""
stop() {
    trap - TERM INT
    if [ -n "${child}" ] && kill -0 "${child}" 2>/dev/null; then
        drain "${i}" "${drain_timeout}" "stopping it" || log "runner ${name}: its job still runs after ${drain_timeout}s; stopping it anyway"
        local listener
        listener="$(pgrep -g "${child}" -f 'bin/Runner\.Listener' | head -n 1 || true)"
        log "stopping runner ${name}: SIGINT to ${listener:+Runner.Listener }${listener:-${child}}"
        kill -INT "${listener:-${child}}" 2>/dev/null || true
        for _ in $(seq 1 "${grace}"); do
            kill -0 "${child}" 2>/dev/null || exit 0
            sleep 1
        done
        log "runner ${name} did not stop within ${grace}s of SIGINT; killing it"
        kill -KILL -- "-${child}" 2>/dev/null || true
    fi
    exit 0
}
trap stop TERM INT

mkdir -p "${STATE_DIR}"
while true; do
    unpack
    if [ ! -f "${dir}/.runner" ] || [ "$(as_user "${user}" cat "${dir}/.runner-fleet-registration" 2>/dev/null)" != "${wanted}" ]; then
        configure
    fi
    # The runner's environment (actions/runner reads .env at start), written at every start: the
    # job-started hook (job-started.sh), the job-completed hook, which cleans a kept registration
    # between jobs, and the instance's own Docker.
    {
        printf 'ACTIONS_RUNNER_HOOK_JOB_STARTED=%s\n' "${started_hook}"
        printf 'ACTIONS_RUNNER_HOOK_JOB_COMPLETED=%s\n' "${completed_hook}"
        [ "${install_docker}" != 1 ] || printf 'DOCKER_HOST=unix:///run/runner-fleet-docker-%s/docker.sock\n' "${i}"
    } | write_as "${user}" "${dir}/.env"
    printf '%s\n' "${wanted}" >"${registered}"
    rc=0
    cd "${dir}"
    # With job control on, the runner gets a process group of its own (so its
    # Runner.Listener can be found) and, unlike a plain background command,
    # does not start with SIGINT ignored: it must be able to take the SIGINT.
    set -m
    HOME="/home/${user}" USER="${user}" LOGNAME="${user}" setpriv --reuid "${user}" --regid "${user}" --init-groups -- ./run.sh &
    child=$!
    set +m
    wait "${child}" || rc=$?
    child=""
    if [ "${ephemeral}" != 1 ]; then
        # The listener ended by itself without its registration: GitHub deleted it (an admin, or
        # after 14 days offline: docs.github.com "About self-hosted runners"), and from 2.336.0 the
        # listener then removes .runner and .credentials and returns 0 (actions/runner Runner.cs,
        # "The runner no longer exists on the server"). Restarting would only try again every few
        # seconds, with no token to register: stop, and say so where check.sh and pulumi up look.
        if [ ! -e "${dir}/.runner" ] || registration_deleted; then
            printf '%s GitHub deleted the registration\n' "$(date -u +%FT%TZ)" >"${unregistered}"
            log "runner ${name}: GitHub no longer knows this runner (removed by an admin, or after 14 days offline); stopped. pulumi up registers it again"
            exit 78
        fi
        exit "${rc}"
    fi
    # An ephemeral runner's registration ends with its job: register again.
    rm -f "${dir}/.runner" "${dir}/.credentials" "${dir}/.credentials_rsaparams"
    sleep 1
done
