#!/bin/sh
# sudo-as-root.sh: what install-actuated.sh puts first on the PATH of
# actuated's installer under the name `sudo`. The installer runs as root and
# calls sudo for every step anyway, `sudo -E agent csr --token "$TOKEN"` and
# `sudo -E agent autoenroll --token "$TOKEN"` among them
# (self-actuated/get.actuated.com, get.sh). The real sudo logs each command
# line it runs, root's too, to the journal and auth.log (sudoers "log_allowed",
# on by default), where the `adm` and `systemd-journal` groups read it for
# weeks: the account token would be kept there. Root needs no sudo, so this
# runs the command as it is and logs nothing.
#
# As sudo does with Debian's and Ubuntu's sudoers (env_reset, secure_path):
# without -E the command gets a fresh environment (so `curl ... | sudo sh`
# does not hand the licence and the token to arkade's installer); with -E it
# keeps the caller's. PATH is secure_path either way, behind this script's
# own folder, so a sudo inside the command is this one again.
#
# Options known: -E, --preserve-env, -H, --set-home, -n, --non-interactive,
# -u root, --. Anything else stops the install and names the option: a new
# installer that needs more is seen at once, never run half-understood.
set -eu
preserve=0
while [ "$#" -gt 0 ]; do
    case "$1" in
        -E | --preserve-env) preserve=1 ;;
        -H | --set-home | -n | --non-interactive) ;;
        -u | --user)
            [ "${2:-}" = root ] || {
                echo "runner-fleet: the actuated installer asked sudo for user '${2:-}'; only root is known here" >&2
                exit 1
            }
            shift
            ;;
        --) shift; break ;;
        -*)
            echo "runner-fleet: the actuated installer called sudo with '$1', which runner-fleet's sudo does not know" >&2
            exit 1
            ;;
        *) break ;;
    esac
    shift
done
[ "$#" -gt 0 ] || {
    echo "runner-fleet: sudo called with no command" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || {
    echo "runner-fleet: sudo-as-root.sh runs only as root (the actuated installer runs as root)" >&2
    exit 1
}
path="$(dirname "$0"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if [ "${preserve}" = 1 ]; then
    PATH="${path}" exec "$@"
fi
exec env -i PATH="${path}" HOME=/root LOGNAME=root USER=root SHELL=/bin/sh ${TERM:+TERM="${TERM}"} "$@"
