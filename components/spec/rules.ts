// The checks that involve more than one setting: what a provider accepts,
// what the catalog says of a plan, KVM for actuated, unique names, the
// fleet-wide settings some hosts need, the secrets. Each function checks its
// own input under its own paths; the fleet puts `hosts[i]`, `github`,
// `workflow` in front. Field checks (types, ranges, formats) are the
// declarations' (settings.ts).

import { DEFAULT_PLANS, REGIONS, findPlan, plansOf } from "./catalog";
import { addressKey, opensToEveryone, shown } from "./addresses";
import { parseWith } from "./parse";
import { kindLabelProblem } from "./labels";
import { Problem, Problems, within } from "./problems";
import {
    AgentKind, EndpointsSchema, EndpointsSpec, FleetSpec, HostSchema, HostSpec, INSECURE_HTTP_FIX, INSECURE_HTTP_RISK, SECRET_KEYS, isPlainHttp,
} from "./settings";
import { requiredSecrets, resolveHost } from "./resolve";
import { githubOrgProblems } from "../github/github-org";
import { workflowProblems } from "../github/workflow";
import { buildPlatforms } from "../github/routing";
import { summarizeFleet, summarizeHost } from "./resolve";

const CLOUD_ONLY = ["address", "hostKey", "kvm", "privateKeySecret", "monthlyPrice"] as const;
const METAL_ONLY = ["metro", "hardwareReservationId", "tags"] as const;

/**
 * Every problem of one host that its fields' own checks cannot see, under the
 * host's own paths (`agent`, `plan`; "" for the host as a whole). `agent` is
 * the agent it will run, when known: a host component on its own does not
 * know it.
 */
export function hostProblems(host: HostSpec, agent?: AgentKind): Problem[] {
    const p = new Problems();
    const r = resolveHost(host, agent ?? "github-runner");
    const name = host.name;
    const entry = findPlan(host.provider, r.plan);
    if (r.plan !== undefined && entry === undefined) {
        if (host.arch === undefined) {
            const known = plansOf(host.provider);
            p.add("plan", `"${host.plan}" is not in the catalog, so its arch is unknown`,
                `state the host's arch (arm64 or amd64)${known.length ? `, or use a known plan: ${known.join(", ")}` : ""}`);
        }
    } else if (entry && host.arch !== undefined && host.arch !== entry.arch) {
        p.add("arch", `host "${name}" says ${host.arch} but plan ${entry.plan} is ${entry.arch} (${entry.cpu})`,
            `remove arch, or pick a plan for ${host.arch}, such as ${host.provider === "existing" ? "another model" : DEFAULT_PLANS[host.provider][host.arch]}`);
    }
    if (host.provider === "existing" && r.plan === undefined && host.arch === undefined) {
        p.add("arch", `host "${name}" has no arch`, "state arch: arm64 or arch: amd64 (what uname -m says: aarch64 is arm64, x86_64 is amd64)");
    }
    if (host.provider === "equinix-metal" || host.provider === "hetzner-cloud") {
        const field = host.provider === "equinix-metal" ? "metro" : "location";
        const regions = REGIONS[host.provider];
        if (r.region === undefined) {
            p.add(field, "is missing", `set ${field} to one of: ${regions.join(", ")}`);
        } else if (!regions.includes(r.region)) {
            p.add(field, `"${r.region}" is not a known ${host.provider === "equinix-metal" ? "Equinix Metal metro" : "Hetzner Cloud location"}`, `use one of: ${regions.join(", ")}`);
        } else if (entry && entry.regions.length > 0 && !entry.regions.includes(r.region)) {
            p.add(field, `${entry.plan} is not sold in ${r.region}`, `use one of: ${entry.regions.join(", ")}`);
        }
        for (const key of CLOUD_ONLY) {
            if (host[key] !== undefined) {
                p.add(key, `applies to existing hosts only, not to ${host.provider}`, `remove ${key}`);
            }
        }
    }
    if (host.provider !== "equinix-metal") {
        for (const key of METAL_ONLY) {
            if (host[key] !== undefined) {
                p.add(key, `applies to equinix-metal hosts only, not to ${host.provider}`, `remove ${key}`);
            }
        }
    }
    if (host.provider !== "hetzner-cloud" && host.location !== undefined) {
        p.add("location", `applies to hetzner-cloud hosts only, not to ${host.provider}`, host.provider === "equinix-metal" ? "use metro for Equinix Metal" : "remove location");
    }
    if (host.provider === "existing" && !host.address) {
        p.add("address", `existing host "${name}" has no address`, "set address to the host's IP address or DNS name");
    }
    if (agent === "actuated" && !r.kvm) {
        const why = host.provider === "hetzner-cloud"
            ? "Hetzner Cloud servers have no nested virtualisation, so there is no KVM"
            : "the host does not declare KVM";
        p.add(host.agent ? "agent" : "", `host "${name}" would run the actuated agent without KVM: ${why}, and actuated starts a Firecracker microVM per job`,
            host.provider === "existing"
                ? "set kvm: true if /dev/kvm exists on it, or set agent: github-runner for this host"
                : "set agent: github-runner for this host, or use a bare-metal host (existing, such as a Hetzner Robot RX170)");
    }
    if (host.vmDevice !== undefined && agent !== undefined && agent !== "actuated") {
        p.add("vmDevice", "applies to actuated hosts only", "remove vmDevice, or run the actuated agent on this host");
    }
    return p.list;
}

/** A host component's own check: its fields against the declarations, then hostProblems. Paths under `args`. */
export function hostArgsProblems(host: Omit<HostSpec, "name"> & { readonly name: string }): Problem[] {
    const { value, problems } = parseWith(HostSchema, JSON.parse(JSON.stringify(host)), "args");
    return value ? afterFieldProblems(problems, within("args", hostProblems(value))) : problems;
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

/** Every problem of a parsed fleet spec that its fields' own checks cannot see. `secretsPresent` names the secret keys that are set. */
export function fleetProblems(spec: FleetSpec, secretsPresent: ReadonlySet<string>): Problem[] {
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
        if (host.provider !== "existing" || host.address === undefined) {
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
    const firstOf = (provider: string) => spec.hosts.find(h => h.provider === provider)?.name;
    const cloud = spec.hosts.find(h => h.provider !== "existing");
    if (cloud && !spec.sshPublicKey) {
        p.add("sshPublicKey", `host "${cloud.name}" is created with an SSH key, and none is set`, "set runner-fleet:sshPublicKey to the public half of the sshPrivateKey secret");
    }
    const metal = firstOf("equinix-metal");
    if (metal && !spec.equinixProjectId) {
        p.add("equinixProjectId", `host "${metal}" is an Equinix Metal device and no project is set`, "set runner-fleet:equinixProjectId to the Metal project's UUID");
    }
    const hcloud = firstOf("hetzner-cloud");
    if (hcloud && spec.adminCidrs.length === 0) {
        p.add("adminCidrs", `host "${hcloud}" gets a firewall that opens SSH only to adminCidrs, and the list is empty`, "set runner-fleet:adminCidrs to the networks Pulumi and your admins connect from, such as [198.51.100.0/24]");
    }
    const release = spec.mirror.release;
    if (release && spec.mirror.enabled) {
        const told = new Set<string>();
        for (const host of spec.hosts.filter(h => (h.agent ?? spec.agent.kind) === "github-runner")) {
            const arch = summarizeHost(spec, host).arch;
            if (!release.sha256[arch] && !told.has(arch)) {
                told.add(arch);
                p.add(`mirror.release.sha256.${arch}`, `is missing, and host "${host.name}" (${arch}) runs the mirror`, `give the sha256 of registry_${release.version}_linux_${arch}.tar.gz`);
            }
        }
    }
    for (const key of requiredSecrets(spec)) {
        if (!secretsPresent.has(key)) {
            p.add(key, `the secret ${key} is not set`, `run: pulumi config set --secret ${key} <value>${key === SECRET_KEYS.sshPrivateKey ? " (or: cat key | pulumi config set --secret sshPrivateKey)" : ""}`);
        }
    }
    p.addAll(labelProblems(spec));
    const hostsValid = p.list.length === 0;
    p.addAll(within("github", githubOrgProblems({
        org: spec.github.org,
        visibility: spec.github.visibility,
        repositories: spec.github.repositories,
        runnerGroup: { name: spec.github.runnerGroup, workflows: spec.github.workflows },
    })));
    if (spec.workflow) {
        if (spec.workflow.repositories.length > 0 && !spec.github.manage) {
            p.add("workflow.repositories", "committing the workflow needs the GitHub provider, and github.manage is false", "set github.manage: true, or drop workflow.repositories and commit the rendered workflow (the workflowYaml output) yourself");
        }
        // The platforms come from the hosts; with broken hosts, only the workflow's own settings are checked.
        const platforms = hostsValid ? buildPlatforms(spec, summarizeFleet(spec)) : [];
        p.addAll(within("workflow", workflowProblems({ ...spec.workflow, org: spec.github.org, platforms })
            .filter(x => hostsValid || x.path !== "")));
    }
    return p.list;
}

/** Labels against the kind of host that carries them (labels.ts), and the settings that shape them. */
function labelProblems(spec: FleetSpec): Problem[] {
    const p = new Problems();
    spec.agent.labels.forEach((label, i) => {
        if (/^actuated/i.test(label)) {
            p.add(`agent.labels[${i}]`, `"${label}" starts with "actuated", and every host carries agent.labels: on a plain GitHub-runner host actuated's control plane would start microVMs for jobs that host takes; on an actuated host the arch label is set already`,
                "remove it: actuated hosts carry actuated-arm64 or actuated by themselves, and jobs ask for a size in runs-on (agent.vmSize)");
        }
    });
    spec.hosts.forEach((host, i) => {
        const r = resolveHost(host, spec.agent.kind);
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
    if (spec.agent.ephemeral && spec.agent.installDocker && kinds.has("github-runner")) {
        p.add("agent.ephemeral", "keeps githubRunnerToken, which can register the organization's runners, on every plain host, and with Docker installed every job can read it (the docker group is root)",
            "leave ephemeral false (one registration per runner, cleaned between jobs), or set installDocker: false");
    }
    if (spec.agent.vmSize !== undefined && !kinds.has("actuated")) {
        p.add("agent.vmSize", "sizes actuated microVMs, and the fleet has no actuated host", "remove agent.vmSize, or add an actuated host");
    }
    const insist = spec.workflow?.runners;
    if (insist === "actuated" || insist === "github-runner") {
        const archs = new Set(spec.hosts.map(h => resolveHost(h, spec.agent.kind)).filter(r => r.agent === insist).map(r => r.arch));
        for (const arch of new Set(spec.hosts.map(h => resolveHost(h, spec.agent.kind).arch))) {
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
    spec.adminCidrs.forEach((c, i) => {
        if (opensToEveryone(c)) {
            out.push(`adminCidrs[${i}]: ${c} opens SSH on the Hetzner Cloud hosts to the whole internet; only the pinned key stands between it and root. Narrow it to the networks Pulumi and your admins connect from.`);
        }
    });
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
