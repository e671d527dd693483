#!/usr/bin/env bash
# metrics.sh: writes the fleet's figures for this host where the node
# exporter's textfile collector reads them (Prometheus's text format, every
# series under runner_fleet_ with host, arch and kind labels). Run as root by
# runner-fleet-metrics.timer every 15 seconds; changes nothing but its own
# files (the figures, and its record of the runners' journals read so far).
#
# Where each figure comes from:
# - services, registrations, versions, busy: the same functions check.sh
#   reports them with (common.sh), so runner-fleet status, the drift check
#   and Prometheus read the same figures;
# - jobs and their durations: each runner's own lines in its unit's journal
#   (actions/runner JobDispatcher.cs writes "<time>: Running job: <name>" and
#   "<time>: Job <name> completed with result: <result>" to its terminal; Runner.cs
#   "<time>: Listening for Jobs" when it starts): a job started and never
#   completed when the listener starts again or its service stops is lost;
# - setup failures: the job-started hook's count (job-started.sh), read as the
#   runner user and taken only as a number;
# - the mirror's requests, hits, misses and bytes: its expvar page
#   (mirror_proxy_figures);
# - disk: df where jobs, images and the mirror's cache live;
# - microVMs (actuated): the firecracker processes, one per microVM
#   (firecracker-microvm/firecracker docs: one process per microVM).
# A job can change what its own runner's journal lines and hook count say, and
# so its own runner's job figures; nothing of it is run, and every value is
# parsed as a number or a fixed word before it is written.
#
# Settings: /etc/runner-fleet/metrics.env (written by install-metrics.sh):
# RUNNER_FLEET_HOST, HOST_ARCH, AGENT, MIRROR_MODE, MIRROR_BIND, RUNNER_RELEASES
# (the actions/runner releases the package knows, "version:YYYY-MM-DD" pairs).
#
# Run by hand: sudo /usr/local/lib/runner-fleet/metrics.sh; cat /var/lib/runner-fleet-metrics/runner_fleet.prom
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/figures.sh"

# shellcheck disable=SC1091
[ -n "${AGENT:-}" ] || . /etc/runner-fleet/metrics.env
# A folder of its own, readable by the exporter (the state folder may be root's alone).
out_dir="${ROOT}/var/lib/runner-fleet-metrics"
state_dir="${STATE_DIR}/metrics-state"
mkdir -p "${out_dir}" "${state_dir}"
chmod 0755 "${out_dir}"
chmod 0700 "${state_dir}"
# One run at a time: the timer's and install-metrics.sh's own first run read the
# same journal cursor and write the same counters (remove-metrics.sh waits on it too).
exec 9>"${state_dir}/lock"
flock -w 120 9 || die "another metrics.sh run held ${state_dir}/lock for 120 s"

unit_state() { systemctl is-active "$1" 2>/dev/null || true; }
one() { if "$@"; then echo 1; else echo 0; fi; }

# The facts, one per line ("kind fields..."), for the formatter below.
facts() {
    echo "now $(date +%s)"
    case "${AGENT}" in
        github-runner)
            local unit i state user cursor since standing
            for unit in /etc/systemd/system/multi-user.target.wants/runner-fleet-runner@*.service; do
                [ -e "${unit}" ] || continue
                i="${unit##*@}"
                i="${i%.service}"
                case "${i}" in '' | *[!0-9]*) continue ;; esac
                RUNNER_USER="$(sed -n 's/^RUNNER_USER=//p' /etc/runner-fleet/runner.env 2>/dev/null | head -n 1)"
                user="$(runner_user "${i}")"
                state="$(unit_state "runner-fleet-runner@${i}.service")"
                echo "unit agent runner-fleet-runner@${i} $([ "${state}" = active ] && echo 1 || echo 0)"
                if [ -e "/etc/systemd/system/runner-fleet-docker@.service" ]; then
                    echo "unit runner-docker runner-fleet-docker@${i} $(one systemctl is-active --quiet "runner-fleet-docker@${i}.service")"
                fi
                read -r standing _ <<<"$(runner_registration "${i}" "${state}")"
                echo "runner ${i} registered $([ "${standing}" = unregistered ] && echo 0 || echo 1)"
                echo "runner ${i} online $([ "${state}" = active ] && [ "${standing}" != unregistered ] && listener_running "${i}" && echo 1 || echo 0)"
                echo "runner ${i} busy $(one job_running "${i}")"
                echo "runner ${i} service-active $([ "${state}" = active ] && echo 1 || echo 0)"
                echo "runner ${i} version $(runner_version "${i}")"
                # The hook's count, as the runner user (its folder is the runner's); a number or nothing.
                echo "runner ${i} setup-failures $(as_user "${user}" head -c 20 "${STATE_DIR}/jobs/runner-${i}/docker-failures" 2>/dev/null | tr -cd '0-9' || true)"
                cursor="$(cat "${state_dir}/runner-${i}.cursor" 2>/dev/null || true)"
                # The runner's own lines since the last run (the first run: the last hour's).
                since=(--since=-1h)
                [ -z "${cursor}" ] || since=("--after-cursor=${cursor}")
                journalctl -q -u "runner-fleet-runner@${i}.service" -o cat --no-pager --show-cursor "${since[@]}" 2>/dev/null |
                    sed -e "s/^/journal ${i} /" || true
            done
            ;;
        actuated)
            echo "unit agent actuated $(one systemctl is-active --quiet actuated.service)"
            echo "microvms $(pgrep -xc firecracker 2>/dev/null || true)"
            ;;
    esac
    case "${MIRROR_MODE:-none}" in
        registry)
            echo "unit mirror runner-fleet-mirror $(one systemctl is-active --quiet runner-fleet-mirror.service)"
            local bind="${MIRROR_BIND}"
            mirror_proxy_figures "127.0.0.1:$((${bind##*:} + 1))" | sed -e 's/^/mirror /'
            ;;
        actuated)
            echo "unit mirror registry-mirror $(one systemctl is-active --quiet registry-mirror.service)"
            ;;
    esac
    local dir
    for dir in /opt/runner-fleet /var/lib/runner-fleet /var/lib/actuated /var/lib/containerd; do
        [ -d "${dir}" ] || continue
        df -B1 --output=avail,size "${dir}" 2>/dev/null | tail -n 1 | sed -e "s|^|disk ${dir} |"
    done
}

# The formatter: the facts, with what earlier runs counted, in Prometheus's text format.
formatter="$(
    cat <<'PY'
import json, math, os, re, sys

host, arch, kind, releases, state_dir, out_dir = sys.argv[1:7]
BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600]
RESULTS = {"Succeeded": "succeeded", "Failed": "failed", "Canceled": "canceled", "Abandoned": "abandoned"}
STAMP = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ): "
RUNNING = re.compile(STAMP + r"Running job: ")
DONE = re.compile(STAMP + r"Job .* completed with result: (\w+)$")
LISTENING = re.compile(STAMP + r"Listening for Jobs$")
SAFE = re.compile(r"^[A-Za-z0-9_.@:/-]{1,128}$")

def epoch(stamp):
    import calendar, time
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%SZ"))

def version_key(v):
    return tuple(int(x) for x in v.split("."))

def days_left(version, now):
    # GitHub stops sending jobs to a runner 30 days after the first release newer than it
    # (docs.github.com, "Runner software updates on self-hosted runners"); the same rule as
    # runnerStanding in components/spec/catalog.ts, over the releases the stack sent.
    if not re.match(r"^\d+\.\d+\.\d+$", version):
        return None
    known = []
    for pair in releases.replace(",", " ").split():
        v, _, d = pair.partition(":")
        if re.match(r"^\d+\.\d+\.\d+$", v) and re.match(r"^\d{4}-\d\d-\d\d$", d):
            known.append((version_key(v), d))
    newer = sorted(k for k in known if k[0] > version_key(version))
    if not newer:
        return math.inf
    deadline = epoch(newer[0][1] + " 00:00:00Z") + 30 * 86400
    return math.floor((deadline - now) / 86400)

now = 0
units, runners, mirror, disks, microvms = [], {}, [], [], None
journal = {}
for line in sys.stdin:
    line = line.rstrip("\n")
    kind_, _, rest = line.partition(" ")
    if kind_ == "now":
        now = int(rest)
    elif kind_ == "unit":
        role, name, up = rest.split(" ")
        units.append((role, name, int(up)))
    elif kind_ == "runner":
        i, what, value = (rest.split(" ", 2) + [""])[:3]
        runners.setdefault(int(i), {})[what] = value.strip()
    elif kind_ == "journal":
        i, _, text = rest.partition(" ")
        journal.setdefault(int(i), []).append(text)
    elif kind_ == "mirror":
        f = rest.split()
        if len(f) == 6:
            mirror.append((f[0], [int(x) for x in f[1:]]))
    elif kind_ == "disk":
        path, avail, size = rest.split()
        disks.append((path, int(avail), int(size)))
    elif kind_ == "microvms":
        microvms = int(rest or 0)

def load(i):
    try:
        with open(os.path.join(state_dir, "runner-%d.json" % i)) as f:
            return json.load(f)
    except Exception:
        return {"started": 0, "completed": {}, "lost": 0, "open": None, "buckets": [0] * len(BUCKETS), "count": 0, "sum": 0.0}

def save(i, st, cursor):
    for name, text in (("runner-%d.json" % i, json.dumps(st)), ("runner-%d.cursor" % i, cursor)):
        if text is None:
            continue
        tmp = os.path.join(state_dir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(state_dir, name))

lines = []
def metric(name, mtype, help_, samples):
    lines.append("# HELP %s %s" % (name, help_))
    lines.append("# TYPE %s %s" % (name, mtype))
    for labels, value in samples:
        base = {"host": host, "arch": arch, "kind": kind}
        base.update(labels)
        text = ",".join("%s=\"%s\"" % (k, v) for k, v in base.items() if SAFE.match(str(v)) or k == "le")
        if isinstance(value, float) and math.isinf(value):
            value = "+Inf"
        lines.append("%s{%s} %s" % (name, text, value))

per = {}
for i in sorted(runners):
    r = runners[i]
    st = load(i)
    cursor = None
    for text in journal.get(i, []):
        if text.startswith("-- cursor: "):
            cursor = text[len("-- cursor: "):]
            continue
        m = RUNNING.match(text)
        if m:
            if st["open"] is not None:
                st["lost"] += 1
            st["started"] += 1
            st["open"] = epoch(m.group(1))
            continue
        m = DONE.match(text)
        if m:
            result = RESULTS.get(m.group(2))
            if result is None:
                continue
            st["completed"][result] = st["completed"].get(result, 0) + 1
            if st["open"] is not None:
                took = max(0, epoch(m.group(1)) - st["open"])
                st["count"] += 1
                st["sum"] += took
                for b, le in enumerate(BUCKETS):
                    if took <= le:
                        st["buckets"][b] += 1
                st["open"] = None
            continue
        if LISTENING.match(text) and st["open"] is not None:
            st["lost"] += 1
            st["open"] = None
    # A job still open once its listener is gone (the service stopped, or the host went down) is lost too.
    if st["open"] is not None and r.get("service-active") == "0" and r.get("busy") == "0":
        st["lost"] += 1
        st["open"] = None
    save(i, st, cursor)
    per[i] = st

name_of = lambda i: "%s-%d" % (host, i)
if runners:
    metric("runner_fleet_runner_registered", "gauge", "1 when the runner instance holds a GitHub registration",
           [({"runner": name_of(i)}, int(runners[i].get("registered") == "1")) for i in sorted(runners)])
    metric("runner_fleet_runner_online", "gauge", "1 when the runner's listener runs with a registration",
           [({"runner": name_of(i)}, int(runners[i].get("online") == "1")) for i in sorted(runners)])
    metric("runner_fleet_runner_busy", "gauge", "1 while the runner runs a job",
           [({"runner": name_of(i)}, int(runners[i].get("busy") == "1")) for i in sorted(runners)])
    metric("runner_fleet_runner_info", "gauge", "1, with the installed actions/runner version",
           [({"runner": name_of(i), "version": runners[i].get("version", "unknown")}, 1) for i in sorted(runners)])
    left = [({"runner": name_of(i)}, days_left(runners[i].get("version", ""), now)) for i in sorted(runners)]
    metric("runner_fleet_runner_support_days_left", "gauge", "days before GitHub stops sending the runner jobs (+Inf when no newer release is known)",
           [(l, v) for l, v in left if v is not None])
    metric("runner_fleet_jobs_started_total", "counter", "jobs the runner started",
           [({"runner": name_of(i)}, per[i]["started"]) for i in sorted(per)])
    metric("runner_fleet_jobs_completed_total", "counter", "jobs the runner completed, by its own result: succeeded, failed, canceled, abandoned",
           [({"runner": name_of(i), "result": res}, per[i]["completed"].get(res, 0)) for i in sorted(per) for res in RESULTS.values()])
    metric("runner_fleet_jobs_lost_total", "counter", "jobs started that never completed (listener stopped or killed, host rebooted): the fleet's fault",
           [({"runner": name_of(i)}, per[i]["lost"]) for i in sorted(per)])
    metric("runner_fleet_job_setup_failures_total", "counter", "jobs whose job-started hook found the runner's own Docker not answering (check=\"docker\")",
           [({"runner": name_of(i), "check": "docker"}, int(runners[i].get("setup-failures") or 0)) for i in sorted(runners)])
    samples = []
    for i in sorted(per):
        st = per[i]
        for b, le in enumerate(BUCKETS):
            samples.append(({"runner": name_of(i), "le": str(le)}, st["buckets"][b]))
        samples.append(({"runner": name_of(i), "le": "+Inf"}, st["count"]))
    metric("runner_fleet_job_duration_seconds", "histogram", "job durations in seconds", [])
    for labels, value in samples:
        base = {"host": host, "arch": arch, "kind": kind}
        base.update(labels)
        lines.append("runner_fleet_job_duration_seconds_bucket{%s} %s" % (",".join("%s=\"%s\"" % kv for kv in base.items()), value))
    for i in sorted(per):
        base = "host=\"%s\",arch=\"%s\",kind=\"%s\",runner=\"%s\"" % (host, arch, kind, name_of(i))
        lines.append("runner_fleet_job_duration_seconds_sum{%s} %s" % (base, per[i]["sum"]))
        lines.append("runner_fleet_job_duration_seconds_count{%s} %s" % (base, per[i]["count"]))
metric("runner_fleet_agent_up", "gauge", "1 when the agent's systemd unit is active (runner-fleet-runner@N with its own runner-fleet-docker@N, actuated)",
       [({"unit": u}, up) for role, u, up in units if role in ("agent", "runner-docker")])
if any(role == "mirror" for role, _, _ in units):
    metric("runner_fleet_mirror_up", "gauge", "1 when the mirror's systemd unit is active (runner-fleet-mirror, registry-mirror on actuated)",
           [({"unit": u}, up) for role, u, up in units if role == "mirror"])
if mirror:
    for n, field, help_ in (
        (0, "requests", "requests the mirror served, by type (blob, manifest)"),
        (1, "hits", "requests the mirror served from its cache"),
        (2, "misses", "requests the mirror fetched from the upstream"),
        (3, "pulled_bytes", "bytes the mirror fetched from the upstream"),
        (4, "pushed_bytes", "bytes the mirror served to clients"),
    ):
        metric("runner_fleet_mirror_%s_total" % field, "counter", help_,
               [({"type": k.rstrip("s")}, v[n]) for k, v in mirror])
if disks:
    metric("runner_fleet_disk_free_bytes", "gauge", "bytes free on the filesystem where jobs and images live",
           [({"path": p}, a) for p, a, s in disks])
    metric("runner_fleet_disk_size_bytes", "gauge", "size of the filesystem where jobs and images live",
           [({"path": p}, s) for p, a, s in disks])
if microvms is not None:
    metric("runner_fleet_microvms_running", "gauge", "actuated: Firecracker microVMs running (one per job)", [({}, microvms)])
metric("runner_fleet_metrics_updated_timestamp_seconds", "gauge", "when the timer last wrote these figures (Unix seconds)", [({}, now)])

tmp = os.path.join(out_dir, ".runner_fleet.prom.tmp")
with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
os.chmod(tmp, 0o644)
os.replace(tmp, os.path.join(out_dir, "runner_fleet.prom"))
PY
)"
facts | python3 -c "${formatter}" "${RUNNER_FLEET_HOST}" "${HOST_ARCH}" "${AGENT}" "${RUNNER_RELEASES:-}" "${state_dir}" "${out_dir}"
