// ExistingHost: any machine already running and reachable over SSH, such as a
// Hetzner Robot RX170 (Ampere Altra) or AX102, or a server on premises.
// Everything the package knows of such hosts is in this file: the `existing`
// host source (its fields, the models it knows with their prices) and the
// component. No cloud provider is involved.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { z } from "zod";
import { hostAddressProblem } from "../spec/addresses";
import { Arch, CatalogEntry } from "../spec/catalog";
import { throwIfAny } from "../spec/problems";
import { hostFacts } from "../spec/resolve";
import { hostArgsProblems } from "../spec/rules";
import { checked, matches, setting, sshPublicKeyProblem } from "../spec/settings";
import { ConnectionArgs, HostOutputs, SshArgs, connectMachine, defineHostSource, hostOutputRecord } from "./host";

const ID = "existing";

// Hetzner Robot dedicated servers (bare metal, KVM available), EUR per month
// excluding VAT and setup fee: the prices the Robot order pages listed in
// 2024-2025, not re-verified; Hetzner raised dedicated prices by 2-21% on
// 2026-04-01, so treat these as a floor.
const robot = (plan: string, arch: Arch, cpu: string, cores: number, memoryGb: number, monthly: number): CatalogEntry => ({
    plan, provider: ID, arch, cpu, cores, memoryGb, kvm: true, monthlyPrice: monthly, currency: "EUR", regions: [],
});

export const existing = defineHostSource({
    id: ID,
    title: "existing host",
    typeToken: "runner-fleet:index:ExistingHost",
    creates: false,
    kvm: "declared",
    plans: [
        robot("rx170", "arm64", "Ampere Altra Q80-30", 80, 128, 184),
        robot("rx220", "arm64", "Ampere Altra Q80-30", 80, 256, 257),
        robot("ax42", "amd64", "AMD Ryzen 7 PRO 8700GE", 8, 64, 46),
        robot("ax52", "amd64", "AMD Ryzen 7 7700", 8, 64, 64),
        robot("ax102", "amd64", "AMD Ryzen 9 7950X3D", 16, 128, 104),
        robot("ax162-r", "amd64", "AMD EPYC 9454P", 48, 256, 199),
    ],
    hostFields: {
        address: setting(checked(hostAddressProblem).optional(), {
            description: "IPv4 address, IPv6 address or DNS name reachable over SSH: the host alone (the user and port have their own fields); no two hosts share one",
            fix: "write the host's address alone, such as 203.0.113.10, 2001:db8::10 or runner1.example.com (no user@, :port, brackets or URL)",
            docType: "IP address or DNS name", appliesTo: ID,
        }),
        hostKey: setting(checked(sshPublicKeyProblem).optional(), {
            description: "the host's public key, pinned for every connection: `<type> <base64>` as ssh-keyscan prints it",
            fix: "paste one line of ssh-keyscan's output without the host name, such as ssh-ed25519 AAAA...", docType: "SSH public key", appliesTo: ID,
        }),
        kvm: setting(z.boolean().optional(), {
            description: "whether `/dev/kvm` exists (known models fill it in); actuated needs it",
            fix: "write kvm: true when /dev/kvm exists on the host, else kvm: false", appliesTo: ID,
        }),
        privateKeySecret: setting(matches(/^[A-Za-z][A-Za-z0-9_]*$/, "a config key name").optional(), {
            description: "the name of the secret config key that holds this host's SSH private key; `sshPrivateKey` unless set",
            fix: "name a config key such as robotKey, set with pulumi config set --secret robotKey", appliesTo: ID,
        }),
        monthlyPrice: setting(z.number().min(0).max(100000).optional(), {
            description: "monthly price in EUR when the model is not in the catalog",
            fix: "write the monthly price as a number, such as 184", appliesTo: ID,
        }),
    },
    hostProblems: host => host.address ? [] : [{
        path: "address", message: `existing host "${host.name}" has no address`, fix: "set address to the host's IP address or DNS name",
    }],
    create: ({ name, host, resolved, ssh, opts }) => new ExistingHost(name, {
        ...ssh, address: host.address as string, arch: resolved.arch, kvm: resolved.kvm, model: host.plan, hostKey: host.hostKey as string | undefined,
    }, opts),
});

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

/** A machine already running and reachable over SSH (Hetzner Robot, on premises): connected, checked and made ready for an agent. */
export class ExistingHost extends pulumi.ComponentResource implements HostOutputs {
    /** The host's name in the fleet and its hostname. */
    declare public readonly name: string;
    /** The machine's CPU architecture. */
    declare public readonly arch: Arch;
    /** Whether /dev/kvm is available. */
    declare public readonly kvm: boolean;
    /** Where SSH reaches the host. */
    declare public readonly publicIp: pulumi.Output<string>;
    /** How to reach the host over SSH. Secret: it carries the private key. */
    declare public readonly connection: pulumi.Output<ConnectionArgs>;
    /** The step everything on the host follows. */
    declare public readonly ready: command.remote.Command;
    /** Changes when the machine is replaced. */
    declare public readonly hostId: pulumi.Output<string>;
    /** The host's SSH public key: the pinned one, or the one the ready step saw. */
    declare public readonly hostKey: pulumi.Output<string | undefined>;
    /** SSH login user. */
    declare public readonly sshUser: string;
    /** SSH port. */
    declare public readonly sshPort: number;
    /** The host source: `existing`. */
    declare public readonly provider: string;
    /** The catalog model, when known. */
    declare public readonly plan?: string;

    constructor(name: string, args: ExistingHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        throwIfAny(hostArgsProblems({
            name: hostname, provider: ID, address: args.address, arch: args.arch, kvm: args.kvm, plan: args.model,
            hostKey: typeof args.hostKey === "string" ? args.hostKey : undefined,
            port: args.port, user: args.user,
        }), `ExistingHost "${hostname}"`);
        const facts = hostFacts({ name: hostname, provider: ID, arch: args.arch, plan: args.model, kvm: args.kvm }, "github-runner");
        // The plan is the cost estimate's key: a model the catalog does not know has none.
        super(existing.typeToken, name, {}, opts);
        const host = connectMachine(this, name, { hostname, arch: facts.arch as Arch, kvm: facts.kvm, ssh: args, provider: ID, plan: facts.entry?.plan },
            { address: args.address, hostId: `existing:${args.address}` });
        Object.assign(this, host);
        this.registerOutputs(hostOutputRecord(host));
    }
}
