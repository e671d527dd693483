#!/usr/bin/env bash
# runner-service.sh N [deregister]: the root supervisor of runner instance N,
# run by runner-fleet-runner@N.service. It unpacks the runner, registers it
# (the token goes to config.sh in ACTIONS_RUNNER_INPUT_TOKEN, never on a
# command line), runs it as the unprivileged runner user, and after an
# ephemeral runner's one job registers it again with a fresh token.
# With "deregister" it removes instance N from GitHub and from the disk.
#
# Settings: /etc/runner-fleet/runner.env (written by install-github-runner.sh).
set -euo pipefail
. "$(dirname "$0")/common.sh"

i="${1:?usage: runner-service.sh N [deregister]}"
action="${2:-run}"
# shellcheck disable=SC1091
[ -n "${GITHUB_ORG:-}" ] || . /etc/runner-fleet/runner.env
name="${RUNNER_FLEET_HOST}-${i}"
dir="/opt/runner-fleet/runner-${i}"
registered="${STATE_DIR}/runner-${i}.registered"
user="${RUNNER_USER:-runner}"

as_runner() { runuser -u "${user}" -- "$@"; }

# A registration token: the one the stack sent, while it is fresh (they last
# an hour), else a new one from the API.
registration_token() {
    local sent="${SECRETS_DIR}/registration/registration-token"
    if [ -s "${sent}" ] && [ -n "$(find "${sent}" -mmin -50 2>/dev/null)" ]; then
        cat "${sent}"
        return 0
    fi
    github_api POST "/orgs/${GITHUB_ORG}/actions/runners/registration-token" | json_field token
}

deregister() {
    local ids id
    ids="$(github_api GET "/orgs/${GITHUB_ORG}/actions/runners?per_page=100&name=${name}" |
        python3 -c 'import json,sys; n=sys.argv[1]; print(" ".join(str(r["id"]) for r in json.load(sys.stdin).get("runners", []) if r.get("name") == n))' "${name}")" ||
        die "could not list runners of ${GITHUB_ORG} to remove ${name}"
    for id in ${ids}; do
        github_api DELETE "/orgs/${GITHUB_ORG}/actions/runners/${id}" >/dev/null || die "could not remove runner ${name} (${id})"
        log "removed runner ${name} (${id}) from ${GITHUB_ORG}"
    done
    rm -rf "${dir}" "${registered}"
}

if [ "${action}" = deregister ]; then
    deregister
    exit 0
fi

unpack() {
    if [ -x "${dir}/run.sh" ] && [ "$(cat "${dir}/.runner-fleet-version" 2>/dev/null)" = "${RUNNER_VERSION}" ]; then
        return 0
    fi
    rm -rf "${dir}"
    mkdir -p "${dir}"
    tar -xzf "${RUNNER_ARCHIVE}" -C "${dir}"
    echo "${RUNNER_VERSION}" >"${dir}/.runner-fleet-version"
    chown -R "${user}:" "${dir}"
    # The runner's own installer adds what .NET needs (libicu on Arm64 Ubuntu).
    if [ -x "${dir}/bin/installdependencies.sh" ] && [ ! -f "${STATE_DIR}/runner-deps.done" ]; then
        retry "${RETRIES}" "${dir}/bin/installdependencies.sh" >/dev/null && touch "${STATE_DIR}/runner-deps.done"
    fi
}

configure() {
    local args=(--unattended --url "${GITHUB_URL}/${GITHUB_ORG}" --name "${name}" --labels "${LABELS}"
        --runnergroup "${RUNNER_GROUP}" --no-default-labels --replace --work _work)
    [ "${EPHEMERAL:-1}" = 1 ] && args+=(--ephemeral)
    ACTIONS_RUNNER_INPUT_TOKEN="$(registration_token)"
    [ -n "${ACTIONS_RUNNER_INPUT_TOKEN}" ] || die "no registration token for ${name}"
    export ACTIONS_RUNNER_INPUT_TOKEN
    (cd "${dir}" && as_runner ./config.sh "${args[@]}") >&2
    unset ACTIONS_RUNNER_INPUT_TOKEN
}

mkdir -p "${STATE_DIR}"
while true; do
    unpack
    if [ ! -f "${dir}/.runner" ]; then
        configure
    fi
    touch "${registered}"
    rc=0
    (cd "${dir}" && as_runner ./run.sh) || rc=$?
    if [ "${EPHEMERAL:-1}" != 1 ]; then
        exit "${rc}"
    fi
    # An ephemeral runner's registration ends with its job: start clean.
    rm -f "${dir}/.runner" "${dir}/.credentials" "${dir}/.credentials_rsaparams"
    sleep 1
done
