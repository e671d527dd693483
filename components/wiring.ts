// Pure logic of a whole fleet: every problem at once, and what the fleet
// tells GitHub (variables, the build workflow's platforms, runs-on snippets).
// No resources here.

import { Arch } from "./catalog";
import {
    ACTUATED_MIRROR_ADDRESS, ARCHES, FleetSpec, FleetSummary, Problem, summarizeFleet, validateFleet,
} from "./config";
import { githubOrgProblems } from "./github-org";
import { bundleFileHashes } from "./remote-script";
import { BuildPlatform, nativeCondition, workflowProblems } from "./workflow";

/** The organization variable that names an arch's runner labels (a JSON list). */
export function runnerVariable(arch: Arch): string {
    return `RUNNER_${arch.toUpperCase()}`;
}

/** The organization variable that names an arch's mirror address. */
export function mirrorVariable(arch: Arch): string {
    return `REGISTRY_MIRROR_${arch.toUpperCase()}`;
}

/** Where jobs on a host reach its mirror, given its agent. */
export function mirrorAddressOf(spec: FleetSpec, agent: string): string | undefined {
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

/** Every problem of a fleet: hosts, agents, mirror, GitHub wiring and the workflow. */
export function fleetProblems(spec: FleetSpec, secretsPresent: ReadonlySet<string>): Problem[] {
    const problems = validateFleet(spec, secretsPresent);
    const hostsValid = problems.length === 0;
    problems.push(...githubOrgProblems({
        org: spec.github.org,
        visibility: spec.github.visibility,
        repositories: spec.github.repositories,
        runnerGroup: { name: spec.github.runnerGroup, workflows: spec.github.workflows },
    }));
    if (spec.workflow && spec.workflow.repositories.length > 0 && !spec.github.manage) {
        problems.push({ path: "workflow.repositories", message: "committing the workflow needs the GitHub provider, and github.manage is false", fix: "set github.manage: true, or drop workflow.repositories and commit the rendered workflow (the workflowYaml output) yourself" });
    }
    if (spec.workflow) {
        const w = spec.workflow;
        // The platforms come from the hosts; with broken hosts, only the workflow's own settings are checked.
        const platforms = hostsValid ? buildPlatforms(spec, summarizeFleet(spec)) : [];
        problems.push(...workflowProblems({ ...w, org: spec.github.org, platforms })
            .filter(p => hostsValid || p.path !== "workflow"));
    }
    return problems;
}

/**
 * What check.sh compares on a host: the settings hashes the stack declared
 * (`stamp NAME HASH`) and the hash of every installed script (`file PATH HASH`).
 */
export function driftExpectations(scripts: readonly string[], stamps: Readonly<Record<string, string>>): string {
    const files: Record<string, string> = {};
    for (const script of scripts) {
        Object.assign(files, bundleFileHashes(script));
    }
    return [
        ...Object.entries(stamps).map(([name, hash]) => `stamp ${name} ${hash}`),
        ...Object.keys(files).sort().map(path => `file ${path} ${files[path]}`),
    ].join("\n");
}
