#!/bin/sh
# mirror-expire.sh STORAGE [MARGIN_SECONDS]: applies, before the mirror serves,
# every cache expiry that has passed (or passes within MARGIN_SECONDS, default
# 60) while it was down, exactly as the registry itself would, and takes those
# entries out of its TTL state. The mirror's unit runs it as the mirror's user
# right before the registry starts.
#
# Why: at start, distribution 3's TTL scheduler fires every expiry that passed
# while it was down at once, beside serving (registry/proxy/scheduler/
# scheduler.go, Start: a timer of time.Until(expiry) per entry), and a blob
# found in the cache and deleted before its first read is answered 200 with its
# length and no body (registry/storage/blobserver.go, filereader.go: a missing
# file reads as empty). After a reboot or an upgrade, runners start pulling
# right away, and one expired layer shared with the image they pull (a base
# layer) breaks that pull. With this done before the registry starts, nothing
# is deleted beside the first pulls; later expiries come one at a time, each at
# its own moment.
#
# What an expiry removes (registry/proxy/proxyregistry.go, OnBlobExpire and
# OnManifestExpire): a blob, the repository's link (_layers/<alg>/<hex>/link)
# and then the blob itself (blobs/<alg>/<xx>/<hex>), only when both are there
# (the registry's Delete stats the linked blob first and stops on an error); a
# manifest, the repository's revision link. The entry leaves the state either
# way, as the scheduler drops it after its handler ran.
#
# Run by hand (mirror stopped): sudo -u runner-fleet-mirror /usr/local/lib/runner-fleet/mirror-expire.sh /var/lib/runner-fleet/mirror
set -u
storage="${1:?the storage directory of the mirror}"
margin="${2:-60}"
state="${storage}/scheduler-state.json"
[ -f "${state}" ] || exit 0
if ! command -v python3 >/dev/null 2>&1; then
    echo "runner-fleet: no python3: expiries that passed while the mirror was down are left to the registry" >&2
    exit 0
fi
exec python3 - "${storage}" "${margin}" <<'PY'
import json, os, re, shutil, sys, time
from datetime import datetime, timedelta, timezone

storage, margin = sys.argv[1], int(sys.argv[2])
state = os.path.join(storage, "scheduler-state.json")
v2 = os.path.join(storage, "docker", "registry", "v2")

def expiry(text):
    # Go's time.Time in JSON: RFC 3339 with up to nine fraction digits.
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text or "")
    if not m:
        return None
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    zone = timezone.utc if m.group(3) == "Z" else timezone(
        (1 if m.group(3)[0] == "+" else -1) * timedelta(hours=int(m.group(3)[1:3]), minutes=int(m.group(3)[4:6])))
    micro = int((m.group(2) or "0")[:6].ljust(6, "0"))
    return base.replace(tzinfo=zone, microsecond=micro).timestamp()

try:
    with open(state) as f:
        entries = json.load(f)
except (OSError, ValueError) as e:
    print("runner-fleet: the mirror's TTL state %s is unreadable (%s); left to the registry" % (state, e), file=sys.stderr)
    sys.exit(0)
if not isinstance(entries, dict):
    sys.exit(0)

def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)

now = time.time() + margin
blobs = manifests = 0
kept = {}
for key, entry in entries.items():
    when = expiry(entry.get("ExpiryData")) if isinstance(entry, dict) else None
    m = re.fullmatch(r"([a-z0-9._/-]+)@([a-z0-9]+):([a-f0-9]+)", entry.get("Key", "") if isinstance(entry, dict) else "")
    if when is None or when > now or m is None:
        kept[key] = entry
        continue
    repo, alg, hexd = m.groups()
    repo_dir = os.path.join(v2, "repositories", repo)
    if entry.get("EntryType") == 0:
        link = os.path.join(repo_dir, "_layers", alg, hexd, "link")
        blob_dir = os.path.join(v2, "blobs", alg, hexd[:2], hexd)
        if os.path.isfile(link) and os.path.isfile(os.path.join(blob_dir, "data")):
            remove(link)
            remove(blob_dir)
            blobs += 1
    elif entry.get("EntryType") == 1:
        link = os.path.join(repo_dir, "_manifests", "revisions", alg, hexd, "link")
        if os.path.isfile(link):
            remove(link)
            manifests += 1

if len(kept) != len(entries):
    tmp = state + ".runner-fleet"
    with open(tmp, "w") as f:
        json.dump(kept, f)
    os.replace(tmp, state)
    print("runner-fleet: expired before serving: %d blobs, %d manifests (%d entries due); %d entries kept"
          % (blobs, manifests, len(entries) - len(kept), len(kept)), file=sys.stderr)
PY
