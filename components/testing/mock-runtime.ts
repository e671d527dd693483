// Runs Pulumi programs under the SDK's mock runtime and records every
// registered resource: type, name, parent, inputs (with which are secret),
// and the dependency graph (explicit dependsOn and dependencies that flow
// through inputs). The offline plan, the benchmark and the tests share it.

import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { packageRoot } from "../remote/package-files";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };

/** The SDK's wire marker for a secret value. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    /** Parent URN; empty for top-level resources. */
    readonly parent: string;
    /** Inputs as the engine would see them, secrets unwrapped. */
    readonly inputs: Record<string, unknown>;
    /** Top-level input names whose value is (or contains) a secret. */
    readonly secretInputs: ReadonlySet<string>;
    /** URNs this resource waits for: dependsOn plus dependencies carried by its inputs. */
    readonly dependencies: ReadonlySet<string>;
    readonly additionalSecretOutputs: readonly string[];
    readonly customTimeouts: { create?: string; update?: string; delete?: string };
    /** Whether destroy (or removal from the program) leaves the resource where it is. */
    readonly retainOnDelete: boolean;
}

function isSecretWrapper(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Whether a deserialized value holds a secret anywhere inside it. */
export function containsSecret(v: unknown): boolean {
    if (isSecretWrapper(v)) {
        return true;
    }
    if (Array.isArray(v)) {
        return v.some(containsSecret);
    }
    if (typeof v === "object" && v !== null) {
        return Object.values(v).some(containsSecret);
    }
    return false;
}

/**
 * A deserialized value with its assets and archives as plain records, their
 * paths awaited: `{ fileArchive: path }`, `{ fileAsset: path }`,
 * `{ stringAsset: text }`, `{ remoteAsset: uri }`, `{ assetArchive: {...} }`.
 * A path inside the package reads `<runner-fleet>/...`, the same on every
 * machine.
 */
export async function plainAssets(v: unknown): Promise<unknown> {
    // Most inputs hold none: they are handed back as they are, without a walk that awaits every property.
    if (!holdsAsset(v)) {
        return v;
    }
    const at = (p: string) => {
        const root = packageRoot();
        return p === root || p.startsWith(`${root}/`) ? `<runner-fleet>${p.slice(root.length)}` : p;
    };
    if (v instanceof pulumi.asset.FileArchive) {
        return { fileArchive: at(await v.path) };
    }
    if (v instanceof pulumi.asset.FileAsset) {
        return { fileAsset: at(await v.path) };
    }
    if (v instanceof pulumi.asset.StringAsset) {
        return { stringAsset: await v.text };
    }
    if (v instanceof pulumi.asset.RemoteAsset || v instanceof pulumi.asset.RemoteArchive) {
        return { remoteAsset: await v.uri };
    }
    if (v instanceof pulumi.asset.AssetArchive) {
        const assets = await v.assets;
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(assets)) {
            out[k] = await plainAssets(x);
        }
        return { assetArchive: out };
    }
    if (Array.isArray(v)) {
        return Promise.all(v.map(plainAssets));
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        out[k] = await plainAssets(x);
    }
    return out;
}

/** Whether a deserialized value is or holds an asset or archive. */
function holdsAsset(v: unknown): boolean {
    if (v instanceof pulumi.asset.Asset || v instanceof pulumi.asset.Archive) {
        return true;
    }
    if (Array.isArray(v)) {
        return v.some(holdsAsset);
    }
    return typeof v === "object" && v !== null && Object.values(v).some(holdsAsset);
}

/** A deserialized value with secret wrappers removed. */
export function unwrapSecrets(v: unknown): unknown {
    if (isSecretWrapper(v)) {
        return unwrapSecrets(v.value);
    }
    if (Array.isArray(v)) {
        return v.map(unwrapSecrets);
    }
    if (typeof v === "object" && v !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
            out[k] = unwrapSecrets(x);
        }
        return out;
    }
    return v;
}

type Outputs = (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

/** What the fake operator-side mint step (github-runners.js, ACTION=mint) prints, as a registration token. */
export const MINTED_REGISTRATION_TOKEN = "registration-token-minted-where-pulumi-runs";

/** Fake outputs that providers would compute, so dependents see plausible values. */
export const defaultOutputs: Outputs = (type, name, inputs) => {
    const n = hashByte(name);
    switch (type) {
        case "equinix-metal:index/device:Device":
            return { accessPublicIpv4: `198.51.100.${n}`, accessPrivateIpv4: `10.0.0.${n}` };
        case "hcloud:index/server:Server":
            return { ipv4Address: `203.0.113.${n}`, ipv6Address: `2001:db8::${n.toString(16)}` };
        case "command:remote:Command":
            return { stdout: "", stderr: "" };
        case "command:local:Command": {
            const env = (inputs.environment ?? {}) as Record<string, unknown>;
            const minted = `registration-token ${Buffer.from(MINTED_REGISTRATION_TOKEN).toString("base64")}\n`;
            return { stdout: env.ACTION === "mint" ? minted : "", stderr: "" };
        }
        case "pulumi-nodejs:dynamic:Resource":
            // The registration watch as its create answers: GitHub not asked yet, generation 0.
            return "instances" in inputs && "org" in inputs ? { generation: 0, missing: [] } : {};
        default:
            return {};
    }
};

/** Answers for provider functions the fleet calls, with obviously fake values. */
export const defaultCalls: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
    // Offline, every named repository exists; `pulumi up` asks GitHub (orgRepository fails on one it cannot find).
    "github:index/getRepository:getRepository": inputs => {
        const fullName = String(inputs.fullName);
        return { fullName, name: fullName.split("/").pop(), repoId: 1000 + hashByte(fullName), defaultBranch: "main" };
    },
    // Offline, no branch is protected: the plan shows direct commits; `pulumi up` asks GitHub, and a protected
    // branch gets a pull request instead.
    "github:index/getRepositoryBranches:getRepositoryBranches": inputs => ({ repository: inputs.repository, branches: [] }),
};

function hashByte(s: string): number {
    let h = 7;
    for (const c of s) {
        h = (h * 31 + c.charCodeAt(0)) % 251;
    }
    return h + 2;
}

class RecordingMonitor extends MockMonitor {
    public readonly records: RecordedResource[] = [];
    /** What components registered as their outputs (registerOutputs), by URN. */
    public readonly componentOutputs = new Map<string, Record<string, unknown>>();
    public registrations = 0;

    constructor(mocks: pulumi.runtime.Mocks, private readonly project: string, private readonly stack: string) {
        super(mocks);
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async registerResource(req: any, callback: (err: any, res: any) => void): Promise<void> {
        this.registrations++;
        const type: string = req.getType();
        const name: string = req.getName();
        const parent: string = req.getParent();
        const raw = await plainAssets(pulumi.runtime.deserializeProperties(req.getObject())) as Record<string, unknown>;
        const deps = new Set<string>(req.getDependenciesList());
        req.getPropertydependenciesMap().forEach((v: { getUrnsList(): string[] }) => {
            for (const u of v.getUrnsList()) {
                deps.add(u);
            }
        });
        const secretInputs = new Set(Object.keys(raw).filter(k => containsSecret(raw[k])));
        const timeouts = req.getCustomtimeouts();
        this.records.push({
            urn: this.urnOf(type, name, parent),
            type, name, parent,
            custom: req.getCustom(),
            inputs: unwrapSecrets(raw) as Record<string, unknown>,
            secretInputs,
            dependencies: deps,
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            retainOnDelete: req.getRetainondelete?.() === true,
            customTimeouts: timeouts ? {
                create: timeouts.getCreate() || undefined,
                update: timeouts.getUpdate() || undefined,
                delete: timeouts.getDelete() || undefined,
            } : {},
        });
        return super.registerResource(req, callback);
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    registerResourceOutputs(req: any, callback: (err: any, innerResponse: any) => void): void {
        const outputs = req.getOutputs();
        if (outputs) {
            this.componentOutputs.set(req.getUrn(), unwrapSecrets(pulumi.runtime.deserializeProperties(outputs)) as Record<string, unknown>);
        }
        super.registerResourceOutputs(req, callback);
    }

    private urnOf(type: string, name: string, parent: string): string {
        let qualified = type;
        if (parent) {
            const parentType = parent.split("::")[2].split("$").pop();
            qualified = `${parentType}$${type}`;
        }
        return `urn:pulumi:${this.stack}::${this.project}::${qualified}::${name}`;
    }
}

export interface MockRunOptions {
    readonly project: string;
    readonly stack: string;
    /** Config as the engine hands it over: full keys (`project:key`) to strings (JSON for objects). */
    readonly config?: Record<string, string>;
    /** Config keys whose values are secret. */
    readonly secretKeys?: readonly string[];
    /** Answers for provider functions (invokes), by token. */
    readonly calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
    readonly outputs?: Outputs;
    readonly preview?: boolean;
}

export interface Recording {
    readonly resources: readonly RecordedResource[];
    readonly calls: readonly { token: string; inputs: Record<string, unknown> }[];
    /** Components' registered outputs, by URN (their Output values resolved, secrets unwrapped). */
    readonly componentOutputs: ReadonlyMap<string, Record<string, unknown>>;
}

/** A recorder installed as the current Pulumi runtime. */
export class MockRuntime {
    private readonly monitor: RecordingMonitor;
    private readonly callLog: { token: string; inputs: Record<string, unknown> }[] = [];

    constructor(private readonly options: MockRunOptions) {
        const outputs = options.outputs ?? defaultOutputs;
        const mocks: pulumi.runtime.Mocks = {
            newResource: (args) => ({
                id: args.custom === false ? undefined : `${args.name}-id`,
                state: { ...args.inputs, ...outputs(args.type, args.name, unwrapSecrets(args.inputs) as Record<string, unknown>) },
            }),
            call: (args) => {
                const inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
                this.callLog.push({ token: args.token, inputs });
                const answer = options.calls?.[args.token] ?? defaultCalls[args.token];
                if (!answer) {
                    throw new Error(`mock runtime: no answer for provider function ${args.token}`);
                }
                return answer(inputs);
            },
        };
        this.monitor = new RecordingMonitor(mocks, options.project, options.stack);
    }

    /** Installs this recorder and the config as the process's Pulumi runtime. */
    install(): this {
        pulumi.runtime.setMockOptions(this.monitor, this.options.project, this.options.stack, this.options.preview ?? false);
        // The same features setMocks turns on (setMockOptions resets them).
        Object.assign(getStore(), {
            supportsSecrets: true, supportsResourceReferences: true, supportsOutputValues: false,
            supportsDeletedWith: true, supportsAliasSpecs: true, supportsTransforms: false,
        });
        pulumi.runtime.setAllConfig(this.options.config ?? {}, [...(this.options.secretKeys ?? [])]);
        return this;
    }

    /** Waits until every registration the program started has been answered. */
    async settle(): Promise<void> {
        const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
        for (;;) {
            const before = this.monitor.registrations;
            if (wait) {
                await wait();
            }
            await new Promise(r => setTimeout(r, 0));
            if (this.monitor.registrations === before) {
                return;
            }
        }
    }

    recording(): Recording {
        return { resources: [...this.monitor.records], calls: [...this.callLog], componentOutputs: new Map(this.monitor.componentOutputs) };
    }
}

/** Resolves an Output's value under mocks (test helper). */
export function valueOf<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise(resolve => pulumi.output(o).apply(v => {
        resolve(v as T);
        return v;
    }));
}

/** Whether an Output is secret (test helper). */
export function isSecretOutput(o: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(o);
}

/** The length of the longest chain of dependencies (parent and dependsOn and input edges) in a recording. */
export function longestChain(resources: readonly RecordedResource[], includeParents = false): number {
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const memo = new Map<string, number>();
    const depth = (urn: string, stack: Set<string>): number => {
        const known = memo.get(urn);
        if (known !== undefined) {
            return known;
        }
        const r = byUrn.get(urn);
        if (!r || stack.has(urn)) {
            return 0;
        }
        stack.add(urn);
        const edges = [...r.dependencies, ...(includeParents && r.parent ? [r.parent] : [])];
        const d = 1 + Math.max(0, ...edges.map(e => depth(e, stack)));
        stack.delete(urn);
        memo.set(urn, d);
        return d;
    };
    return Math.max(0, ...resources.map(r => depth(r.urn, new Set())));
}
