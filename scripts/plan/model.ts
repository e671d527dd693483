// What the offline plan finds: resources grouped by host and fleet, with
// labels, costs and warnings. Types only.

import type { RunsOn } from "../../components/github/routing";
import type { ArchRunners, MetricsTarget } from "../../components/spec/resolve";

export interface PlanResource {
    readonly type: string;
    readonly name: string;
}

/** One host, whatever composed it: a RunnerFleet's host, or a host component used directly. */
export interface PlanHostGroup {
    /** The host's name (its hostname). */
    readonly host: string;
    /** The RunnerFleet it belongs to (the component's name), or null for a host the program made itself. */
    readonly fleet: string | null;
    /** The host component's resource name. */
    readonly component: string;
    readonly provider: string;
    readonly arch: string;
    readonly plan: string | null;
    /** The agent on it (a RunnerAgent below the host), or null without one. */
    readonly agent: string | null;
    readonly labels: readonly string[];
    readonly monthlyPrice: number | null;
    readonly currency: string | null;
    readonly exposed: string | null;
    /** Where Prometheus scrapes the host's metrics (a HostMetrics below the host), or null without one. */
    readonly metrics: string | null;
    readonly resources: readonly PlanResource[];
}

/** A RunnerFleet: its hosts, what it creates once, and its cost. */
export interface PlanFleet {
    readonly fleet: string;
    readonly hosts: readonly string[];
    readonly resources: readonly PlanResource[];
    readonly estimatedMonthlyCost: Record<string, number>;
}

export interface Plan {
    readonly stack: string;
    readonly project: string;
    readonly fleets: readonly PlanFleet[];
    readonly hosts: readonly PlanHostGroup[];
    /** Resources below no host: each fleet's own and, last, the program's outside any fleet. */
    readonly fleetWide: readonly PlanResource[];
    /** Resources the program made outside any fleet and any host. */
    readonly outside: readonly PlanResource[];
    readonly labelsByArch: Record<string, ArchRunners>;
    readonly runsOn: Record<string, RunsOn>;
    /** Per currency, over every host with a known price. */
    readonly estimatedMonthlyCost: Record<string, number>;
    /** Every host's exporter as a Prometheus scrape target (file_sd format), as the metricsTargets output gives them. */
    readonly metricsTargets: readonly MetricsTarget[];
    /** The rendered build workflow, when the stack has one. */
    readonly workflowYaml?: string;
    readonly resourceCount: number;
    /** The file `pulumi up` runs, relative to the project folder, and how Pulumi finds it. */
    readonly entryPoint: { readonly file: string; readonly via: string };
    /** What the program logged as warnings (pulumi.log.warn), as `pulumi up` would print them. */
    readonly warnings: readonly string[];
}

