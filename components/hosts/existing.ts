// ExistingHost: any machine already running and reachable over SSH, such as a
// Hetzner Robot RX170 (Ampere Altra) or AX102, or a server on premises.

import * as pulumi from "@pulumi/pulumi";
import { Arch, findPlan } from "../spec/catalog";
import { throwIfAny } from "../spec/problems";
import { hostArgsProblems } from "../spec/rules";
import { HostComponent, SshArgs } from "./host";

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

export class ExistingHost extends HostComponent {
    constructor(name: string, args: ExistingHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        throwIfAny(hostArgsProblems({
            name: hostname, provider: "existing", address: args.address, arch: args.arch, kvm: args.kvm, plan: args.model,
            hostKey: typeof args.hostKey === "string" ? args.hostKey : undefined,
            port: args.port, user: args.user,
        }), `ExistingHost "${hostname}"`);
        const entry = findPlan("existing", args.model);
        const arch = (args.arch ?? entry?.arch) as Arch;
        super("runner-fleet:index:ExistingHost", name, { hostname, arch, kvm: args.kvm ?? entry?.kvm ?? false, ssh: args, provider: "existing", plan: entry?.plan }, opts);
        this.connect({ address: args.address, hostId: `existing:${args.address}` });
    }
}
