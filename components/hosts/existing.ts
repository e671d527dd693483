// ExistingHost: any machine already running and reachable over SSH, such as a
// Hetzner Robot RX170 (Ampere Altra) or AX102, or a server on premises.

import * as pulumi from "@pulumi/pulumi";
import { Arch, findPlan } from "../catalog";
import { FleetConfigError, hostProblems } from "../config";
import { RunnerHost, SshArgs, connectHost } from "./host";

export interface ExistingHostArgs extends SshArgs {
    /** IP address or DNS name. */
    readonly address: string;
    /** The machine's architecture; checked against `uname -m` before anything is installed. Optional when `model` is in the catalog. */
    readonly arch?: Arch;
    /** Whether /dev/kvm is available (actuated needs it). Optional when `model` is in the catalog. */
    readonly kvm?: boolean;
    /** Catalog model, such as `rx170` or `ax102`, for defaults and the cost estimate. */
    readonly model?: string;
}

export class ExistingHost extends pulumi.ComponentResource implements RunnerHost {
    public readonly name: string;
    public readonly arch: Arch;
    public readonly kvm: boolean;
    public readonly publicIp: pulumi.Output<string>;
    public readonly connection: RunnerHost["connection"];
    public readonly ready: pulumi.Resource;
    public readonly hostId: pulumi.Output<string>;
    public readonly hostKey: pulumi.Output<string | undefined>;
    public readonly sshUser: string;
    public readonly sshPort: number;

    constructor(name: string, args: ExistingHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        const problems = hostProblems({
            name: hostname, provider: "existing", address: args.address, arch: args.arch, kvm: args.kvm, plan: args.model,
            hostKey: typeof args.hostKey === "string" ? args.hostKey : undefined,
            port: args.port,
        }, "args", { defaultAgent: "github-runner", sshPublicKeySet: true, equinixProjectSet: true, adminCidrsSet: true });
        if (problems.length > 0) {
            throw new FleetConfigError(problems, `ExistingHost "${hostname}"`);
        }
        super("runner-fleet:index:ExistingHost", name, {}, opts);
        const resolved = resolveExisting(args);
        this.name = hostname;
        this.arch = resolved.arch;
        this.kvm = resolved.kvm;
        this.publicIp = pulumi.output(args.address);
        this.hostId = pulumi.output(`existing:${args.address}`);
        this.sshUser = args.user ?? "root";
        this.sshPort = args.port ?? 22;
        ({ connection: this.connection, ready: this.ready, hostKey: this.hostKey } = connectHost(this, name, {
            hostname, arch: this.arch, address: args.address, hostId: this.hostId, ssh: args,
        }));
        this.registerOutputs({ publicIp: this.publicIp, arch: this.arch, kvm: this.kvm });
    }
}

function resolveExisting(args: ExistingHostArgs): { arch: Arch; kvm: boolean } {
    const entry = findPlan("existing", args.model);
    return { arch: (args.arch ?? entry?.arch) as Arch, kvm: args.kvm ?? entry?.kvm ?? false };
}
