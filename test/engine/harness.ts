// What the engine suite and the engine benchmark share: the engine (the
// Pulumi CLI and the plugins scripts/e2e/engine.sh finds or builds), a
// project made of the repository's files, and what an exported state holds
// per host.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../host/harness";

/** The engine, from scripts/e2e/engine.sh: its bin folder, or why it cannot be had. */
export function engine(): { bin?: string; why?: string; seconds: number } {
    const t0 = Date.now();
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "e2e", "engine.sh")], { encoding: "utf8" });
    const seconds = (Date.now() - t0) / 1000;
    if (r.status === 0) {
        return { bin: r.stdout.trim().split("\n").pop(), seconds };
    }
    return { why: r.stderr.trim(), seconds };
}

interface ExportedResource {
    urn: string;
    inputs?: unknown;
    outputs?: unknown;
    custom?: boolean;
}

function exportedResources(exported: string): ExportedResource[] {
    return (JSON.parse(exported).deployment.resources ?? []) as ExportedResource[];
}

/** A value's bytes in the state, secret values (ciphertext) left out. */
function size(v: unknown): number {
    const plain = (x: unknown): unknown => {
        if (Array.isArray(x)) {
            return x.map(plain);
        }
        if (x && typeof x === "object") {
            const o = x as Record<string, unknown>;
            return "ciphertext" in o ? null : Object.fromEntries(Object.entries(o).map(([k, y]) => [k, plain(y)]));
        }
        return x;
    };
    return v === undefined ? 0 : Buffer.byteLength(JSON.stringify(plain(v)));
}

/** The bytes of one resource's inputs and outputs in an exported state, by its name, secret values left out. */
export function fleetStateBytes(exported: string, name: string): number {
    const r = exportedResources(exported).find(x => x.urn.split("::").pop() === name);
    return r ? size(r.inputs) + size(r.outputs) : 0;
}

/**
 * Per host, the bytes of its resources' inputs and outputs in an exported
 * state (`pulumi stack export`), secret values (ciphertext) left out: what
 * every checkpoint write of a self-managed backend carries for it.
 */
export function hostStateBytes(exported: string, hosts: readonly string[]): Record<string, { inputs: number; outputs: number; resources: number; byResource: [string, number][] }> {
    const resources = exportedResources(exported);
    const out: Record<string, { inputs: number; outputs: number; resources: number; byResource: [string, number][] }> = {};
    for (const h of hosts) {
        const prefix = `fleet-${h}-`;
        const own = resources.filter(r => r.custom && r.urn.split("::").pop()?.startsWith(prefix));
        out[h] = {
            inputs: own.reduce((n, r) => n + size(r.inputs), 0), outputs: own.reduce((n, r) => n + size(r.outputs), 0), resources: own.length,
            // Largest first: inputs and outputs of each, by its name in the host.
            byResource: own.map((r): [string, number] => [(r.urn.split("::").pop() as string).slice(prefix.length), size(r.inputs) + size(r.outputs)])
                .sort((a, b) => b[1] - a[1]),
        };
    }
    return out;
}

/** Copies the repository's tracked files (as they are in the work tree) into `dest`, and links its node_modules. */
export function copyProjectFiles(dest: string, root = ROOT): void {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const f of files) {
        const from = path.join(root, f);
        if (fs.existsSync(from)) {
            fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
            fs.copyFileSync(from, path.join(dest, f));
        }
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dest, "node_modules"));
}

