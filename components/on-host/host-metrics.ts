// HostMetrics: the fleet's figures for Prometheus on one host. Prometheus's
// node exporter, bound to loopback or a private address only, with its
// textfile collector fed by a root timer that writes the fleet's own series
// (spec/metrics.ts: runners, jobs, services, the mirror, disk). One command,
// `<name>-install` (install-metrics.sh); its delete side removes it all
// (remove-metrics.sh). It carries no secret: the figures are read on the host.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { MirrorMode } from "../remote/drift-contract";
import { RUNNER_RELEASES } from "../spec/catalog";
import { settingProblems } from "../spec/parse";
import { Problem, afterProblems, throwIfAny } from "../spec/problems";
import { afterFieldProblems, metricsBindProblems, mirrorListens } from "../spec/rules";
import { AGENT_KINDS, AgentKind, DEFAULTS, MetricsSchema, MirrorSchema } from "../spec/settings";
import { RunnerHost } from "../hosts/host";
import { hostScriptCommand } from "./host-command";

export interface HostMetricsArgs {
    /** The host the exporter runs on: a host component's outputs, or the same fields of a machine of your own. */
    readonly host: RunnerHost;
    /** The agent on the host: which runner figures the timer writes (the `kind` label). */
    readonly agent: AgentKind;
    /**
     * Where the exporter listens, and so what Prometheus scrapes: loopback (reachable from the host itself
     * only, such as through an SSH tunnel) or a private address such as the host's private network address.
     * Default: metrics.bindAddress's.
     */
    readonly bindAddress?: string;
    /** The host's mirror, whose figures the timer reads: `registry` or `actuated`; none when left out. */
    readonly mirrorMode?: MirrorMode;
    /** Where the host's registry mirror listens (`mirrorMode: registry` only). Default: mirror.bindAddress's. */
    readonly mirrorBind?: string;
    /**
     * Resources on the same host it must follow, such as the agent's install and the mirror. Typed any: a
     * component schema has no type for "any resource"; a program in another language passes resource
     * references. Anything that is not a resource is refused.
     */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly after?: any[];
}

/** Every problem of a HostMetrics' args. */
export function metricsProblems(args: HostMetricsArgs): Problem[] {
    const problems: Problem[] = afterProblems(args.after);
    if (!(AGENT_KINDS as readonly string[]).includes(args.agent)) {
        problems.push({ path: "agent", message: `"${args.agent}" is not an agent kind`, fix: "use actuated or github-runner" });
    }
    problems.push(...settingProblems(MetricsSchema.shape.bindAddress, args.bindAddress, "bindAddress"));
    const mode = args.mirrorMode;
    if (mode !== undefined && mode !== "registry" && mode !== "actuated") {
        problems.push({ path: "mirrorMode", message: `"${mode}" is not a mirror mode`, fix: "use registry or actuated, or leave it out for a host without a mirror" });
    }
    if (args.mirrorBind !== undefined) {
        if (mode === "registry") {
            problems.push(...settingProblems(MirrorSchema.shape.bindAddress, args.mirrorBind, "mirrorBind"));
        } else {
            problems.push({
                path: "mirrorBind", message: `is set, and the host runs ${mode === "actuated" ? "actuated's mirror, which listens where actuated puts it" : "no mirror"}`,
                fix: "leave mirrorBind out, or set mirrorMode: registry for a host that runs the package's mirror",
            });
        }
    }
    const bind = args.bindAddress ?? DEFAULTS.metrics.bindAddress;
    const taken = mode === "registry" || mode === "actuated" ? mirrorListens(mode, args.mirrorBind ?? DEFAULTS.mirror.bindAddress) : [];
    return afterFieldProblems(problems, metricsBindProblems(bind, taken));
}

/**
 * The actions/runner releases the catalog knows, newest first, as install-metrics.sh reads them on stdin: one
 * `<version> <YYYY-MM-DD>` line each. On stdin, not in the settings: a package whose catalog knows a newer
 * release updates the step in place (it runs again and counts the days left from the new list); a change in the
 * settings would replace it, and a replacement removes the exporter and its counters first.
 */
export function runnerReleasesInput(): string {
    return RUNNER_RELEASES.map(r => `${r.version} ${r.date}\n`).join("");
}

export class HostMetrics extends pulumi.ComponentResource {
    /** Its Pulumi type token. */
    public static readonly TYPE = "runner-fleet:index:HostMetrics";

    /** Installs the node exporter and the timer that writes the fleet's figures; its delete side removes them. */
    public readonly install: command.remote.Command;
    /** Where Prometheus scrapes the host: the exporter's host:port. */
    public readonly target: string;
    /** The settings hash the metrics step records on the host (for drift checks). */
    public readonly settingsHash: string;

    constructor(name: string, args: HostMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfAny(metricsProblems(args), `HostMetrics "${name}"`);
        super(HostMetrics.TYPE, name, {}, opts);
        this.target = args.bindAddress ?? DEFAULTS.metrics.bindAddress;
        const mode = args.mirrorMode ?? "none";
        const result = hostScriptCommand(`${name}-install`, {
            host: args.host, script: "install-metrics.sh",
            env: {
                RUNNER_FLEET_HOST: args.host.name,
                HOST_ARCH: args.host.arch,
                AGENT: args.agent,
                METRICS_BIND: this.target,
                MIRROR_MODE: mode,
                MIRROR_BIND: mode === "registry" ? (args.mirrorBind ?? DEFAULTS.mirror.bindAddress) : "",
            },
            stdin: runnerReleasesInput(),
            deleteScript: "remove-metrics.sh",
            deleteEnv: { RUNNER_FLEET_HOST: args.host.name },
            secret: false,
        }, { parent: this, dependsOn: [args.host.ready, ...(args.after ?? [])] });
        this.install = result.command;
        this.settingsHash = result.hash;
        this.registerOutputs({ target: this.target, settingsHash: this.settingsHash, host: args.host.name, agent: args.agent });
    }
}
