// The drift contract: what RunnerFleet puts in its `drift` output per host,
// and what the drift check makes of it (the environment check.sh runs with).
// Both sides import this module; "none" is null. Pure.

import { bundleFileHashes } from "./remote-script";
import { AgentKind, DEFAULTS, SECRET_KEYS } from "../spec/settings";

/** Which mirror a host runs. */
export const MirrorMode = {
    /** The package's pull-through registry (distribution), on plain runner hosts. */
    registry: "registry",
    /** actuated's own mirror on the microVM bridge, set up by its installer. */
    actuated: "actuated",
} as const;
export type MirrorMode = (typeof MirrorMode)[keyof typeof MirrorMode];

/** Per host, what the drift check needs to reach it and to compare. No secret: the key is named, not given. */
export interface DriftTarget {
    readonly address: string;
    readonly user: string;
    readonly port: number;
    /** The host's SSH key to pin, or null when none is known. */
    readonly hostKey: string | null;
    /** The config key holding the SSH private key. */
    readonly privateKeySecret: string;
    readonly agent: AgentKind;
    /** github-runner: runner services on the host; null for actuated. */
    readonly instances: number | null;
    /** The host's mirror, or null without one. */
    readonly mirrorMode: MirrorMode | null;
    /** Where the mirror listens, or null without one. */
    readonly mirrorBind: string | null;
    /** Where the host's metrics exporter listens; null or left out without one (metrics off, or a stack from before). */
    readonly metricsBind?: string | null;
    /** check.sh's EXPECT: settings hashes and installed files' hashes. */
    readonly expect: string;
}

/**
 * Per host, what RunnerFleet's `drift` output holds; a field left out means
 * none (older stacks said null). readDriftTarget reads it back.
 */
export interface DriftEntry {
    /** Where SSH reaches the host. */
    readonly address: string;
    /** The SSH login user. */
    readonly user: string;
    /** The SSH port. */
    readonly port: number;
    /** The host's SSH key to pin, when one is known. */
    readonly hostKey?: string;
    /** The config key holding the SSH private key. */
    readonly privateKeySecret: string;
    /** The agent on the host. */
    readonly agent: AgentKind;
    /** github-runner: runner services on the host. */
    readonly instances?: number;
    /** The host's mirror, when it has one. */
    readonly mirrorMode?: MirrorMode;
    /** Where the mirror listens, when the host has one. */
    readonly mirrorBind?: string;
    /** Where the node exporter serves the host's metrics, when metrics are on. */
    readonly metricsBind?: string;
    /** check.sh's EXPECT: settings hashes and installed files' hashes. */
    readonly expect: string;
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

/**
 * A drift output entry as read back from a stack: a field left out is null.
 * Stacks deployed before "none" was left out said null, and before that 0,
 * "" and "none": those read as null too.
 */
export function readDriftTarget(raw: Readonly<Record<string, unknown>>): DriftTarget {
    const text = (k: string): string | null => {
        const v = raw[k];
        return typeof v === "string" && v !== "" ? v : null;
    };
    const agent: AgentKind = raw.agent === "actuated" ? "actuated" : "github-runner";
    const mirrorMode = raw.mirrorMode === "registry" || raw.mirrorMode === "actuated" ? raw.mirrorMode : null;
    const instances = typeof raw.instances === "number" && raw.instances > 0 ? raw.instances : 1;
    return {
        address: text("address") ?? "",
        user: text("user") ?? "root",
        port: typeof raw.port === "number" ? raw.port : 22,
        hostKey: text("hostKey"),
        privateKeySecret: text("privateKeySecret") ?? SECRET_KEYS.sshPrivateKey,
        agent,
        instances: agent === "github-runner" ? instances : null,
        mirrorMode,
        mirrorBind: mirrorMode ? text("mirrorBind") : null,
        metricsBind: text("metricsBind"),
        expect: text("expect") ?? "",
    };
}

/** The settings check.sh runs with for a target (its header lists them). */
export function checkEnvironment(t: DriftTarget): Record<string, string> {
    return {
        AGENT: t.agent,
        INSTANCES: String(t.instances ?? 1),
        MIRROR_MODE: t.mirrorMode ?? "none",
        MIRROR_BIND: t.mirrorBind ?? DEFAULTS.mirror.bindAddress,
        PUBLIC_ADDRESS: t.address,
        // Empty: metrics off, and check.sh looks for no exporter.
        METRICS_BIND: t.metricsBind ?? "",
        EXPECT: t.expect,
    };
}
