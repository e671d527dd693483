// Test helpers: run code under the recording mock runtime and query what it registered.

import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MockRunOptions, MockRuntime, RecordedResource, Recording } from "../components/testing/mock-runtime";
import { byType, record as recordAs } from "../components/testing";
import { packageRoot } from "../components/remote/package-files";

export const PROJECT = "runner-fleet";
export const STACK = "test";

/** Runs `build` under a fresh recording runtime and waits until every registration is answered (runner-fleet/testing's record). */
export function record<T>(build: () => T, options: Partial<MockRunOptions> = {}): Promise<Recording & { result: T }> {
    return recordAs(build, { project: PROJECT, stack: STACK, ...options });
}

/** Runs `build`, expecting it to throw; returns the error and what was registered anyway. */
export async function recordFailure(build: () => unknown, options: Partial<MockRunOptions> = {}): Promise<{ error: Error; resources: readonly RecordedResource[] }> {
    const runtime = new MockRuntime({ project: PROJECT, stack: STACK, ...options }).install();
    let error: Error | undefined;
    try {
        build();
    } catch (e) {
        error = e as Error;
    }
    await runtime.settle();
    if (!error) {
        throw new Error("expected an error, and none was thrown");
    }
    return { error, resources: runtime.recording().resources };
}

export { byType };

export function named(resources: readonly RecordedResource[], name: string): RecordedResource {
    const r = resources.find(x => x.name === name);
    if (!r) {
        throw new Error(`no resource named ${name}; have: ${resources.map(x => x.name).join(", ")}`);
    }
    return r;
}

/** Stack config for the program, keyed as the engine hands it over. */
export function stackConfig(values: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) {
        out[`${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return out;
}

/** Obviously fake secret values, distinctive enough to search for. */
export const FAKE = {
    sshPrivateKey: "fake-ssh-private-key-for-tests-0001",
    actuatedLicense: "fake-actuated-licence-for-tests-0002",
    actuatedToken: "fake-actuated-token-for-tests-0003",
    dockerHubToken: "fake-docker-hub-token-for-tests-0004",
    robotKey: "fake-robot-private-key-for-tests-0005",
    githubRunnerToken: "fake-github-runner-token-for-tests-0006",
} as const;

/** The repository root (tests run from bin/test). */
export const REPO_ROOT = packageRoot();

/** The offline plan as users run it: node PLAN_CLI... --stack S. */
export const PLAN_CLI = [path.join(REPO_ROOT, "bin", "scripts", "cli.js"), "plan"];

/** The files that make the repository a Pulumi project: what `pulumi up` reads. */
export const PROJECT_FILES = ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "scripts", "node_modules"];

/**
 * A scratch project folder that links the repository's project files, with
 * `files` written beside them (a stack file, or a replacement Pulumi.yaml).
 */
export function projectDir(files: Record<string, string> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-project-"));
    for (const f of PROJECT_FILES) {
        if (!(f in files)) {
            fs.symlinkSync(path.join(REPO_ROOT, f), path.join(dir, f));
        }
    }
    for (const [name, text] of Object.entries(files)) {
        fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
}

/** A local command (command.local) as the provider runs it: `sh -c`, with `env` as its whole environment. */
export function runShell(command: string, env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("sh", ["-c", command], { env, cwd });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => { stdout += d; });
        child.stderr.on("data", d => { stderr += d; });
        child.on("error", reject);
        child.on("close", code => resolve({ code: code ?? -1, stdout, stderr }));
    });
}
