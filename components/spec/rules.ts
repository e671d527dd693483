// The checks that involve more than one setting: what a provider accepts,
// what the catalog says of a plan, KVM for actuated, unique names, the
// fleet-wide settings some hosts need, the secrets. Each function checks its
// own input under its own paths; the fleet puts `hosts[i]`, `github`,
// `workflow` in front. Field checks (types, ranges, formats) are the
// declarations' (settings.ts).

import { Arch, ReleaseSha256 } from "./catalog";
import { hostSource, hostSources, ownersOfHostField, plansOf } from "./host-sources";
import { addressKey, bindParts, shown } from "./addresses";
import { parseWith } from "./parse";
import { isActuatedLabel, kindLabelProblem } from "./labels";
import { Problem, Problems, within } from "./problems";
import {
    AgentKind, EndpointsSchema, EndpointsSpec, FleetSpec, HostSpec, hostSchema, INSECURE_HTTP_FIX, INSECURE_HTTP_RISK, SECRET_KEYS, isPlainHttp,
} from "./settings";
import { ACTUATED_MIRROR_ADDRESS, hostFacts, metricsBindOf, requiredSecrets, resolveHost } from "./resolve";

/**
 * Every problem of one host that its fields' own checks cannot see, under the
 * host's own paths (`agent`, `plan`; "" for the host as a whole). `agent` is
 * the agent it will run, when known: a host component on its own does not
 * know it. What differs by provider comes from its host source's declaration.
 */
export function hostProblems(host: HostSpec, agent?: AgentKind): Problem[] {
    const p = new Problems();
    const source = hostSource(host.provider);
    if (source === undefined) {
        return p.list; // the provider's own field problem says so
    }
    const r = hostFacts(host, agent ?? "github-runner");
    const name = host.name;
    const entry = r.entry;
    if (r.plan !== undefined && entry === undefined) {
        if (host.arch === undefined) {
            const known = plansOf(host.provider);
            p.add("plan", `"${host.plan}" is not in the catalog, so its arch is unknown`,
                `state the host's arch (arm64 or amd64)${known.length ? `, or use a known plan: ${known.join(", ")}` : ""}`);
        }
    } else if (entry && host.arch !== undefined && host.arch !== entry.arch) {
        p.add("arch", `host "${name}" says ${host.arch} but plan ${entry.plan} is ${entry.arch} (${entry.cpu})`,
            `remove arch, or pick a plan for ${host.arch}, such as ${source.defaultPlans ? source.defaultPlans[host.arch] : "another model"}`);
    }
    if (!source.defaultPlans && r.plan === undefined && host.arch === undefined) {
        p.add("arch", `host "${name}" has no arch`, "state arch: arm64 or arch: amd64 (what uname -m says: aarch64 is arm64, x86_64 is amd64)");
    }
    const region = source.region;
    if (region) {
        if (r.region === undefined) {
            p.add(region.field, "is missing", `set ${region.field} to one of: ${region.values.join(", ")}`);
        } else if (!region.values.includes(r.region)) {
            p.add(region.field, `"${r.region}" is not a known ${region.what}`, `use one of: ${region.values.join(", ")}`);
        } else if (entry && entry.regions.length > 0 && !entry.regions.includes(r.region)) {
            p.add(region.field, `${entry.plan} is not sold in ${r.region}`, `use one of: ${entry.regions.join(", ")}`);
        }
    }
    // Another source's fields: each names the sources it applies to.
    for (const other of hostSources().filter(s => s !== source)) {
        for (const key of Object.keys(other.hostFields)) {
            if (host[key] !== undefined && !(key in source.hostFields) && ownersOfHostField(key)[0] === other.id) {
                const instead = region && key === other.region?.field ? `use ${region.field} for ${source.title}` : `remove ${key}`;
                p.add(key, `applies to ${ownersOfHostField(key).join(" and ")} hosts only, not to ${host.provider}`, instead);
            }
        }
    }
    p.addAll(source.hostProblems?.(host) ?? []);
    if (agent === "actuated" && !r.kvm) {
        p.addAll(actuatedWithoutKvmProblems(host.agent ? "agent" : "", name, source.noKvmBecause,
            source.kvm === "declared"
                ? "set kvm: true if /dev/kvm exists on it, or set agent: github-runner for this host"
                : "set agent: github-runner for this host, or use a bare-metal host (existing, such as a Hetzner Robot RX170)"));
    }
    if (host.vmDevice !== undefined && agent !== undefined && agent !== "actuated") {
        p.add("vmDevice", "applies to actuated hosts only", "remove vmDevice, or run the actuated agent on this host");
    }
    return p.list;
}

/** A host component's own check: its fields against the declarations, then hostProblems. Paths under `args`. */
export function hostArgsProblems(host: HostSpec): Problem[] {
    const { value, problems } = parseWith(hostSchema(), JSON.parse(JSON.stringify(host)), "args");
    return value ? afterFieldProblems(problems, within("args", hostProblems(value as HostSpec))) : problems;
}

/**
 * The field problems, then the later checks' problems at other fields: a
 * value with a field problem was left out, so what a later check says of
 * the same field (such as "existing host has no address"), or of the list
 * an entry was left out of (such as "no repository is named"), is a
 * consequence.
 */
export function afterFieldProblems(fieldProblems: readonly Problem[], later: readonly Problem[]): Problem[] {
    const paths = fieldProblems.map(p => p.path);
    const consequence = (p: Problem) => paths.some(f => f === p.path || (p.path !== "" && f.startsWith(`${p.path}[`)));
    return [...fieldProblems, ...later.filter(p => !consequence(p))];
}

/**
 * Plain-http URLs, by path, unless `allowInsecureHttp`: the endpoints (and
 * mirror.upstream) are https only, since what comes over them runs as root
 * or carries tokens. The fleet, RunnerAgent and RegistryMirror all check
 * with this, each with its own switch's path.
 */
export function insecureUrlProblems(urls: Readonly<Record<string, string | undefined>>, allowInsecureHttp: boolean | undefined, switchPath: string): Problem[] {
    if (allowInsecureHttp === true) {
        return [];
    }
    return Object.entries(urls).filter(([, url]) => url !== undefined && isPlainHttp(url)).map(([path, url]) => ({
        path, message: `${shown(url as string)} is plain http, and endpoints are https only`,
        fix: `${INSECURE_HTTP_FIX.replace("endpoints.allowInsecureHttp", switchPath)}`,
    }));
}

/** A component's `endpoints` argument: each URL's format, the keys known, and https only unless its allowInsecureHttp. Paths under `path`. */
export function endpointsProblems(endpoints: Partial<EndpointsSpec> | undefined, path = "endpoints"): Problem[] {
    const given = endpoints ?? {};
    const { value, problems } = parseWith(EndpointsSchema, JSON.parse(JSON.stringify(given)), path);
    const urls: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(given)) {
        if (typeof v === "string") {
            urls[`${path}.${k}`] = v;
        }
    }
    return afterFieldProblems(problems, insecureUrlProblems(urls, value?.allowInsecureHttp, `${path}.allowInsecureHttp`));
}

/** The fleet's URLs the https rule covers, by setting path: endpoints.* and mirror.upstream. */
function fleetUrls(spec: FleetSpec): Record<string, string> {
    const urls: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.endpoints)) {
        if (typeof v === "string") {
            urls[`endpoints.${k}`] = v;
        }
    }
    urls["mirror.upstream"] = spec.mirror.upstream;
    return urls;
}

/**
 * Every problem of a parsed fleet spec that its fields' own checks cannot see,
 * but for the GitHub organization's and the workflow's (their own folder's
 * rules; the fleet check adds them). `secretsPresent` names the secret keys that are set.
 */
export function fleetSettingsProblems(spec: FleetSpec, secretsPresent: ReadonlySet<string>): Problem[] {
    const p = new Problems();
    if (spec.hosts.length === 0) {
        p.add("hosts", "the fleet has no hosts", "add at least one host under runner-fleet:hosts (name, provider, and plan or arch)");
    }
    const seen = new Map<string, number>();
    spec.hosts.forEach((host, i) => {
        const first = seen.get(host.name);
        if (first !== undefined) {
            p.add(`hosts[${i}].name`, `"${host.name}" is already the name of hosts[${first}]`, "give every host a unique name");
        } else {
            seen.set(host.name, i);
        }
        p.addAll(within(`hosts[${i}]`, hostProblems(host, host.agent ?? spec.agent.kind)));
    });
    // Two hosts on one machine: two stacks of runners would fight over it.
    const addresses = new Map<string, number>();
    spec.hosts.forEach((host, i) => {
        if (typeof host.address !== "string") {
            return;
        }
        const key = addressKey(host.address);
        const first = addresses.get(key);
        if (first !== undefined) {
            p.add(`hosts[${i}].address`, `${shown(host.address)} is already the address of hosts[${first}] ("${spec.hosts[first].name}"): two hosts on one machine would install and remove each other's runners`,
                "give every host the address of its own machine, or remove one of the two hosts");
        } else {
            addresses.set(key, i);
        }
    });
    p.addAll(insecureUrlProblems(fleetUrls(spec), spec.endpoints.allowInsecureHttp, "endpoints.allowInsecureHttp"));
    // Fleet-wide settings some hosts need: one problem each, naming the first such host.
    const ordered = spec.hosts.find(h => hostSource(h.provider)?.creates === true);
    if (ordered && !spec.sshPublicKey) {
        p.add("sshPublicKey", `host "${ordered.name}" is created with an SSH key, and none is set`, "set runner-fleet:sshPublicKey to the public half of the sshPrivateKey secret");
    }
    for (const source of hostSources()) {
        const first = spec.hosts.find(h => h.provider === source.id);
        if (first && source.fleetProblems) {
            p.addAll(source.fleetProblems(spec, first.name));
        }
    }
    const release = spec.mirror.release;
    if (release && spec.mirror.enabled) {
        const told = new Set<string>();
        for (const host of spec.hosts.filter(h => (h.agent ?? spec.agent.kind) === "github-runner")) {
            const arch = resolveHost(spec, host).arch;
            if (!told.has(arch)) {
                told.add(arch);
                p.addAll(within("mirror", mirrorReleaseArchProblems(release, arch, host.name)));
            }
        }
    }
    if (spec.metrics.enabled && spec.mirror.enabled) {
        // The mirror each host runs: the package's registry on plain hosts, actuated's own on actuated hosts. A clash
        // with the fleet-wide bind is told once, under metrics; one with a host's own bind under that host.
        const told = new Set<string>();
        spec.hosts.forEach((host, i) => {
            const kind = host.agent ?? spec.agent.kind;
            const taken = kind === "github-runner" ? mirrorListens("registry", spec.mirror.bindAddress) : mirrorListens("actuated");
            const own = host.metricsBindAddress !== undefined;
            const problems = metricsBindProblems(metricsBindOf(spec, host), taken, own ? "metricsBindAddress" : "bindAddress");
            const at = own ? `hosts[${i}]` : "metrics";
            for (const problem of within(at, problems)) {
                if (!told.has(`${problem.path} ${problem.message}`)) {
                    told.add(`${problem.path} ${problem.message}`);
                    p.addAll([problem]);
                }
            }
        });
    }
    for (const key of requiredSecrets(spec)) {
        if (!secretsPresent.has(key)) {
            p.add(key, `the secret ${key} is not set`, `run: pulumi config set --secret ${key} <value>${key === SECRET_KEYS.sshPrivateKey ? " (or: cat key | pulumi config set --secret sshPrivateKey)" : ""}`);
        }
    }
    p.addAll(labelProblems(spec));
    return p.list;
}

/** Labels against the kind of host that carries them (labels.ts), and the settings that shape them. */
function labelProblems(spec: FleetSpec): Problem[] {
    const p = new Problems();
    spec.agent.labels.forEach((label, i) => {
        if (isActuatedLabel(label)) {
            p.add(`agent.labels[${i}]`, `"${label}" starts with "actuated", and every host carries agent.labels: on a plain GitHub-runner host actuated's control plane would start microVMs for jobs that host takes; on an actuated host the arch label is set already`,
                "remove it: actuated hosts carry actuated-arm64 or actuated by themselves, and jobs ask for a size in runs-on (agent.vmSize)");
        }
    });
    spec.hosts.forEach((host, i) => {
        const r = hostFacts(host, spec.agent.kind);
        (host.labels ?? []).forEach((label, j) => {
            const why = kindLabelProblem(label, r.agent, r.arch);
            if (why) {
                p.add(`hosts[${i}].labels[${j}]`, why, r.agent === "actuated"
                    ? "remove it: the host enrolls with its arch label by itself; jobs name the size in runs-on (agent.vmSize shapes the fleet's runsOn)"
                    : "use a routing label that does not start with actuated, or run the actuated agent on this host");
            }
        });
    });
    const kinds = new Set(spec.hosts.map(h => h.agent ?? spec.agent.kind));
    if (kinds.has("github-runner")) {
    }
    if (spec.agent.vmSize !== undefined && !kinds.has("actuated")) {
        p.add("agent.vmSize", "sizes actuated microVMs, and the fleet has no actuated host", "remove agent.vmSize, or add an actuated host");
    }
    const insist = spec.workflow?.runners;
    if (insist === "actuated" || insist === "github-runner") {
        const archs = new Set(spec.hosts.map(h => hostFacts(h, spec.agent.kind)).filter(r => r.agent === insist).map(r => r.arch));
        for (const arch of new Set(spec.hosts.map(h => hostFacts(h, spec.agent.kind).arch))) {
            if (arch !== undefined && !archs.has(arch)) {
                p.add("workflow.runners", `is ${insist}, and the fleet has no ${insist} host for ${arch}`, `use isolated-first, or add a ${insist} host for ${arch}`);
            }
        }
    }
    return p.list;
}

/** What is allowed but worth a word: printed by the plan, logged by the program. */
export function fleetWarnings(spec: FleetSpec): string[] {
    const out: string[] = [];
    for (const source of hostSources()) {
        out.push(...(source.fleetWarnings?.(spec) ?? []));
    }
    if (spec.endpoints.allowInsecureHttp === true) {
        for (const [path, url] of Object.entries(fleetUrls(spec))) {
            if (isPlainHttp(url)) {
                const risk = INSECURE_HTTP_RISK[path.split(".").pop() as string] ?? "it travels in clear";
                out.push(`${path}: INSECURE plain http ${shown(url)} (endpoints.allowInsecureHttp): ${risk}. Use https unless this is a test stand-in or an air-gapped mirror.`);
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------
// Rules a component checks of its own arguments as the fleet checks its
// settings: one function, one wording, each path relative to where it is used.

/** A Docker Hub login without its token. */
export function dockerHubTokenProblems(dockerHubUsername: string | undefined, tokenGiven: boolean, path = "dockerHubToken"): Problem[] {
    return dockerHubUsername !== undefined && !tokenGiven
        ? [{ path, message: "is missing while dockerHubUsername is set", fix: "pass the Docker Hub access token, or drop dockerHubUsername for anonymous pulls" }]
        : [];
}

/** A mirror release of one's own without the sha256 of the archive a host of `arch` runs. */
export function mirrorReleaseArchProblems(release: { readonly version: string; readonly sha256?: ReleaseSha256 }, arch: Arch, host: string): Problem[] {
    return release.sha256?.[arch] ? [] : [{
        path: `release.sha256.${arch}`, message: `is missing, and host "${host}" (${arch}) runs the mirror`,
        fix: `give the sha256 of registry_${release.version}_linux_${arch}.tar.gz`,
    }];
}

/**
 * Where a host's mirror listens: the package's registry on its bind and its
 * figures' page on loopback, the next port (configure-mirror.sh); actuated's
 * own on the VM bridge. Nothing without a mirror.
 */
export function mirrorListens(mode: "registry" | "actuated" | undefined, bind?: string): string[] {
    if (mode === "actuated") {
        return [ACTUATED_MIRROR_ADDRESS];
    }
    const parts = mode === "registry" && bind !== undefined ? bindParts(bind) : undefined;
    return parts && bind !== undefined ? [bind, `127.0.0.1:${parts.port + 1}`] : [];
}

/** The metrics exporter on an address the host's mirror takes (mirrorListens): one of the two could not listen. */
export function metricsBindProblems(bind: string, mirrorTakes: readonly string[], path = "bindAddress"): Problem[] {
    const own = bindParts(bind);
    const taken = own && mirrorTakes.find(m => {
        const other = bindParts(m);
        return other !== undefined && other.port === own.port && other.host === own.host;
    });
    return taken ? [{
        path, message: `${shown(bind)} is taken by the host's Docker Hub mirror (it listens on ${mirrorTakes.join(" and ")})`,
        fix: "give the exporter a port of its own, such as 9100 (Prometheus's port for the node exporter)",
    }] : [];
}

/** The actuated agent on a host without KVM: `why` there is none, where the host's source knows. */
export function actuatedWithoutKvmProblems(path: string, host: string, why: string | undefined, fix: string): Problem[] {
    return [{
        path, message: `host "${host}" would run the actuated agent without KVM: ${why ?? "the host does not declare KVM"}, and actuated starts a Firecracker microVM per job`, fix,
    }];
}
