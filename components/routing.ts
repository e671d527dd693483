// Where jobs go: what the fleet tells GitHub and workflows about its runners
// (organization variables, runs-on snippets, the build workflow's platforms)
// and where jobs on a host reach its mirror. Pure; no resources.

import { ARCHES, Arch } from "./catalog";
import { AgentKind, FleetSpec } from "./settings";
import { FleetSummary } from "./summary";
import { BuildPlatform, nativeCondition } from "./workflow";

/** Where actuated's own mirror listens: the VM bridge. */
export const ACTUATED_MIRROR_ADDRESS = "192.168.128.1:5000";

/** The organization variable that names an arch's runner labels (a JSON list). */
export function runnerVariable(arch: Arch): string {
    return `RUNNER_${arch.toUpperCase()}`;
}

/** The organization variable that names an arch's mirror address. */
export function mirrorVariable(arch: Arch): string {
    return `REGISTRY_MIRROR_${arch.toUpperCase()}`;
}

/** Where jobs on a host reach its mirror, given its agent. */
export function mirrorAddressOf(spec: FleetSpec, agent: AgentKind): string | undefined {
    if (!spec.mirror.enabled) {
        return undefined;
    }
    return agent === "actuated" ? ACTUATED_MIRROR_ADDRESS : spec.mirror.bindAddress;
}

/**
 * The organization variables: per arch, the runner labels (JSON, for
 * `runs-on: ${{ fromJSON(vars.RUNNER_ARM64) }}`) and, where every host of the
 * arch has its mirror at the same address, that address.
 */
export function fleetVariables(spec: FleetSpec, summary: FleetSummary): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const arch of ARCHES) {
        const labels = summary.labelsByArch[arch];
        if (!labels) {
            continue;
        }
        vars[runnerVariable(arch)] = JSON.stringify(labels);
        const addresses = new Set(summary.hosts.filter(h => h.arch === arch).map(h => mirrorAddressOf(spec, h.agent)));
        const [only] = [...addresses];
        if (addresses.size === 1 && only !== undefined) {
            vars[mirrorVariable(arch)] = only;
        }
    }
    return vars;
}

/** The organization secrets workflows need (their values come from the fleet's secrets). */
export function fleetSecretNames(spec: FleetSpec): Record<string, "dockerHubUsername" | "dockerHubToken"> {
    return spec.mirror.dockerHubUsername === undefined ? {} : { DOCKERHUB_USERNAME: "dockerHubUsername", DOCKERHUB_TOKEN: "dockerHubToken" };
}

function isLoopback(address: string): boolean {
    return /^(127\.|localhost:|\[::1\]:)/.test(address);
}

/** One build platform per arch: its labels, whether its runners are actuated, and a mirror BuildKit can reach. */
export function buildPlatforms(spec: FleetSpec, summary: FleetSummary): BuildPlatform[] {
    return ARCHES.filter(a => summary.labelsByArch[a]).map(arch => {
        const hosts = summary.hosts.filter(h => h.arch === arch);
        const actuated = hosts.every(h => h.agent === "actuated");
        const mirrors = new Set(hosts.map(h => mirrorAddressOf(spec, h.agent)));
        const [mirror] = [...mirrors];
        return {
            arch,
            labels: summary.labelsByArch[arch] ?? [],
            actuated,
            mirror: !actuated && mirrors.size === 1 && mirror !== undefined && !isLoopback(mirror) ? mirror : undefined,
        };
    });
}

/** Ready-to-paste runs-on lines per arch: plain, and fork-safe (hosted runners outside the organization). */
export function runsOnSnippets(spec: FleetSpec, summary: FleetSummary): Record<string, { plain: string; forkSafe: string }> {
    const out: Record<string, { plain: string; forkSafe: string }> = {};
    for (const arch of ARCHES) {
        const labels = summary.labelsByArch[arch];
        if (labels) {
            const list = `[${labels.join(", ")}]`;
            out[arch] = {
                plain: `runs-on: ${list}`,
                forkSafe: `runs-on: \${{ (${nativeCondition(spec.github.org)}) && fromJSON(vars.${runnerVariable(arch)}) || 'ubuntu-latest' }}`,
            };
        }
    }
    return out;
}
