// Where jobs go: what the fleet tells GitHub and workflows about its runners
// (organization variables, runs-on snippets, the build workflow's platforms)
// Pure; no resources.

import { ARCHES, Arch } from "../spec/catalog";
import { AGENT_KINDS, AgentKind, FleetSpec, SECRET_KEYS } from "../spec/settings";
import { ArchRunners, ResolvedFleet, mirrorAddressOf, pushesWithOwnLogin } from "../spec/resolve";
import { BuildPlatform } from "./workflow-options";
import { REGISTRY_LOGIN, fleetRouting } from "./workflow-model";

/**
 * The organization variable that names an arch's runner labels (a JSON list):
 * `RUNNER_ARM64` for the kind the fleet prefers for the arch (actuated, the
 * isolated one, where it has it), `RUNNER_ARM64_ACTUATED` and
 * `RUNNER_ARM64_PLAIN` for each kind the arch has.
 */
export function runnerVariable(arch: Arch, kind?: AgentKind): string {
    const suffix = kind === undefined ? "" : kind === "actuated" ? "_ACTUATED" : "_PLAIN";
    return `RUNNER_${arch.toUpperCase()}${suffix}`;
}

/** The organization variable that names where jobs on the arch's preferred hosts reach their mirror. */
export function mirrorVariable(arch: Arch): string {
    return `REGISTRY_MIRROR_${arch.toUpperCase()}`;
}

/** The kind of host that builds an arch in the workflow: the setting, or the preferred (isolated) one. */
export function workflowKind(spec: FleetSpec, runners: ArchRunners): AgentKind {
    const wanted = spec.workflow?.runners ?? "isolated-first";
    return wanted === "isolated-first" ? runners.preferred : wanted;
}

/**
 * The organization variables: per arch, the runner labels per kind and for
 * the preferred kind (JSON, for `runs-on: ${{ fromJSON(vars.RUNNER_ARM64) }}`)
 * and, where the preferred kind's hosts of the arch all have their mirror at
 * the same address, that address.
 */
export function fleetVariables(spec: FleetSpec, summary: ResolvedFleet): Record<string, string> {
    const vars: Record<string, string> = {};
    if (pushesWithOwnLogin(spec) && spec.workflow?.registryUsername !== undefined) {
        vars[REGISTRY_LOGIN.username] = spec.workflow.registryUsername;
    }
    for (const arch of ARCHES) {
        const runners = summary.labelsByArch[arch];
        if (!runners) {
            continue;
        }
        vars[runnerVariable(arch)] = JSON.stringify(runners[runners.preferred]);
        for (const kind of AGENT_KINDS) {
            if (runners[kind]) {
                vars[runnerVariable(arch, kind)] = JSON.stringify(runners[kind]);
            }
        }
        const addresses = new Set(summary.hosts.filter(h => h.arch === arch && h.agent === runners.preferred).map(h => mirrorAddressOf(spec, h.agent)));
        const [only] = [...addresses];
        if (addresses.size === 1 && only !== undefined) {
            vars[mirrorVariable(arch)] = only;
        }
    }
    return vars;
}

/**
 * The organization secrets workflows need, by the fleet secret each comes from: the workflow's own login
 * to its image's registry. The mirrors' Docker Hub pull login stays on the hosts.
 */
export function fleetSecretNames(spec: FleetSpec): Record<string, keyof typeof SECRET_KEYS> {
    return pushesWithOwnLogin(spec) ? { [REGISTRY_LOGIN.token]: "imageRegistryToken" } : {};
}

function isLoopback(address: string): boolean {
    return /^(127\.|localhost:|\[::1\]:)/.test(address);
}

/**
 * One build platform per arch: the labels of the kind that builds it (see
 * workflowKind), whether that is actuated, and a mirror BuildKit can reach.
 * An arch without hosts of a kind the workflow insists on is left out (the
 * validation reports it).
 */
export function buildPlatforms(spec: FleetSpec, summary: ResolvedFleet): BuildPlatform[] {
    return ARCHES.flatMap(arch => {
        const runners = summary.labelsByArch[arch];
        if (!runners) {
            return [];
        }
        const kind = workflowKind(spec, runners);
        const labels = runners[kind];
        if (!labels) {
            return [];
        }
        const actuated = kind === "actuated";
        const mirrors = new Set(summary.hosts.filter(h => h.arch === arch && h.agent === kind).map(h => mirrorAddressOf(spec, h.agent)));
        const [mirror] = [...mirrors];
        return [{
            arch,
            labels,
            actuated,
            mirror: !actuated && mirrors.size === 1 && mirror !== undefined && !isLoopback(mirror) ? mirror : undefined,
        }];
    });
}

/** Per arch, the runs-on labels of the preferred kind, whether they give a fresh microVM, and ready-to-paste lines. */
export interface RunsOn {
    /** The labels a job names in runs-on. */
    readonly labels: string[];
    /** The kind of host those labels land on. */
    readonly kind: AgentKind;
    /** A fresh actuated microVM per job (true), or a shared plain runner host (false). */
    readonly isolated: boolean;
    /** A ready-to-paste runs-on line. */
    readonly plain: string;
    /**
     * runs-on with routing: the fleet for the organization's own work, GitHub's hosted runners for runs that
     * carry a fork's pull request. Cost routing, not a security boundary (see fleetRouting).
     */
    readonly routed: string;
}

/** Ready-to-paste runs-on lines per arch for the preferred kind: plain, and routed (hosted runners for forks' work). */
export function runsOnSnippets(spec: FleetSpec, summary: ResolvedFleet): Record<string, RunsOn> {
    const out: Record<string, RunsOn> = {};
    for (const arch of ARCHES) {
        const runners = summary.labelsByArch[arch];
        const labels = runners?.[runners.preferred];
        if (runners && labels) {
            out[arch] = {
                labels, kind: runners.preferred, isolated: runners.preferred === "actuated",
                plain: `runs-on: [${labels.join(", ")}]`,
                routed: `runs-on: \${{ (${fleetRouting(spec.github.org)}) && fromJSON(vars.${runnerVariable(arch)}) || 'ubuntu-latest' }}`,
            };
        }
    }
    return out;
}
