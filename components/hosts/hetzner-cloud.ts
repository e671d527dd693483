// HetznerCloudHost: a Hetzner Cloud server (CAX for arm64, CCX or CPX for
// amd64) with its SSH key and a firewall that lets in SSH from the admin
// networks only. Hetzner Cloud has no nested virtualisation: no KVM, so these
// hosts run the plain GitHub Actions runner, not actuated. Everything the
// package knows of Hetzner Cloud is in this file: the `hetzner-cloud` host
// source (its fields, locations, server types and prices, adminCidrs) and the
// component. @pulumi/hcloud is used here only.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import { z } from "zod";
import { cidrProblem, opensToEveryone } from "../spec/addresses";
import { Arch, CatalogEntry } from "../spec/catalog";
import { Problem, throwIfAny } from "../spec/problems";
import { hostFacts } from "../spec/resolve";
import { hostArgsProblems } from "../spec/rules";
import { checked, matches, setting } from "../spec/settings";
import { ConnectionArgs, HostOutputs, SshArgs, connectMachine, defineHostSource, hostOutputRecord } from "./host";

/** The image: Ubuntu 22.04, the release actuated certifies, so both agents share one OS. */
export const HETZNER_IMAGE = "ubuntu-22.04";

const ID = "hetzner-cloud";

// EUR per month excluding VAT, with a primary IPv4, for new orders in the EU
// locations: Hetzner's price adjustment of 2026-06-15
// (docs.hetzner.com/general/infrastructure-and-availability/price-adjustment,
// as reported 2026-09-04). Where that figure was not published, the price in
// force from 2026-04-01 for existing servers is used (marked "Apr 2026"); new
// orders of those types cost more. CPX11-51 are sold only in the US
// locations now, and no current price was found for them. CAX (Ampere Altra)
// is sold only in the EU locations, and stock comes and goes.
const EU = ["fsn1", "nbg1", "hel1"] as const;
const ALL = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;
const EU_SIN = ["fsn1", "nbg1", "hel1", "sin"] as const;
const US = ["ash", "hil"] as const;
const type = (plan: string, arch: Arch, cpu: string, cores: number, memoryGb: number, monthly: number | undefined, regions: readonly string[]): CatalogEntry => ({
    plan, provider: ID, arch, cpu, cores, memoryGb, kvm: false, monthlyPrice: monthly, currency: "EUR", regions,
});

/** An empty adminCidrs, at `path` (the fleet's setting, or the component's argument): one rule for both checks. */
export function adminCidrsProblems(adminCidrs: readonly string[], path: string, host: string): Problem[] {
    return adminCidrs.length > 0 ? [] : [{
        path, message: `is empty, and host "${host}" gets a firewall that opens SSH only to adminCidrs`,
        fix: "list the networks Pulumi and your admins connect from, such as [198.51.100.0/24]",
    }];
}

export const hetznerCloud = defineHostSource({
    id: ID,
    title: "Hetzner Cloud",
    typeToken: "runner-fleet:index:HetznerCloudHost",
    creates: true,
    kvm: false,
    noKvmBecause: "Hetzner Cloud servers have no nested virtualisation, so there is no KVM",
    region: { field: "location", what: "Hetzner Cloud location", values: ALL },
    defaultPlans: { arm64: "cax41", amd64: "ccx33" },
    plans: [
        type("cax11", "arm64", "Ampere Altra (shared)", 2, 4, 6.49, EU),
        type("cax21", "arm64", "Ampere Altra (shared)", 4, 8, 10.99, EU),
        type("cax31", "arm64", "Ampere Altra (shared)", 8, 16, 21.49, EU),
        type("cax41", "arm64", "Ampere Altra (shared)", 16, 32, 41.49, EU),
        type("cpx22", "amd64", "AMD EPYC (shared)", 2, 4, 19.99, EU_SIN),
        type("cpx32", "amd64", "AMD EPYC (shared)", 4, 8, 35.99, EU_SIN),
        type("cpx42", "amd64", "AMD EPYC (shared)", 8, 16, 69.99, EU_SIN),
        type("cpx52", "amd64", "AMD EPYC (shared)", 12, 24, 100.99, EU_SIN),
        type("cpx62", "amd64", "AMD EPYC (shared)", 16, 32, 130.49, EU_SIN),
        type("cpx11", "amd64", "AMD EPYC (shared)", 2, 2, undefined, US),
        type("cpx21", "amd64", "AMD EPYC (shared)", 3, 4, undefined, US),
        type("cpx31", "amd64", "AMD EPYC (shared)", 4, 8, undefined, US),
        type("cpx41", "amd64", "AMD EPYC (shared)", 8, 16, undefined, US),
        type("cpx51", "amd64", "AMD EPYC (shared)", 16, 32, undefined, US),
        type("ccx13", "amd64", "AMD EPYC (dedicated)", 2, 8, 42.99, ALL),
        type("ccx23", "amd64", "AMD EPYC (dedicated)", 4, 16, 31.49, ALL), // Apr 2026
        type("ccx33", "amd64", "AMD EPYC (dedicated)", 8, 32, 62.49, ALL), // Apr 2026
        type("ccx43", "amd64", "AMD EPYC (dedicated)", 16, 64, 124.99, ALL), // Apr 2026
        type("ccx53", "amd64", "AMD EPYC (dedicated)", 32, 128, 533.49, ALL),
        type("ccx63", "amd64", "AMD EPYC (dedicated)", 48, 192, 374.49, ALL), // Apr 2026
    ],
    hostFields: {
        location: setting(matches(/^[a-z][a-z0-9]{1,7}$/, "a location code").optional(), {
            description: "Hetzner Cloud location: `fsn1`, `nbg1`, `hel1` (CAX is sold in these only), `ash`, `hil`, `sin`",
            fix: "write the location's code in lower case, such as fsn1", appliesTo: ID,
        }),
    },
    fleetFields: {
        adminCidrs: setting(z.array(checked(cidrProblem)).default([]), {
            description: "who may reach SSH on Hetzner Cloud hosts (Pulumi runs from one of them)", docType: "list of CIDRs",
            defaultText: "required with a `hetzner-cloud` host", fix: "write an address with a prefix length, such as 198.51.100.7/32",
        }),
    },
    fleetProblems: (fleet, firstHost) => adminCidrsProblems(fleet.adminCidrs as string[], "adminCidrs", firstHost),
    fleetWarnings: fleet => (fleet.adminCidrs as string[]).flatMap((c, i) => opensToEveryone(c)
        ? [`adminCidrs[${i}]: ${c} opens SSH on the Hetzner Cloud hosts to the whole internet; only the pinned key stands between it and root. Narrow it to the networks Pulumi and your admins connect from.`]
        : []),
    create: ({ name, host, resolved, fleet, ssh, opts }) => new HetznerCloudHost(name, {
        ...ssh, location: host.location as string, arch: resolved.arch, serverType: resolved.plan,
        sshPublicKey: fleet.sshPublicKey as string, adminCidrs: fleet.adminCidrs as string[],
    }, opts),
});

export interface HetznerCloudHostArgs extends SshArgs {
    /** Location, such as `fsn1`, `nbg1` or `hel1` (CAX is sold in the EU locations only). */
    readonly location: string;
    /** CPU architecture; arm64 unless set. */
    readonly arch?: Arch;
    /** Server type; `cax41` for arm64, `ccx33` for amd64 unless set. */
    readonly serverType?: string;
    /** Public half of `privateKey`, installed on the server. */
    readonly sshPublicKey: pulumi.Input<string>;
    /** Networks (CIDR) allowed to reach SSH. Nothing else is let in. */
    readonly adminCidrs: string[];
    /** Extra server labels. */
    readonly labels?: { [key: string]: string };
}

/** A Hetzner Cloud server (CAX Ampere Altra or x86), its SSH key and a firewall that lets SSH in from the admin networks only. */
export class HetznerCloudHost extends pulumi.ComponentResource implements HostOutputs {
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
    /** The host source: `hetzner-cloud`. */
    declare public readonly provider: string;
    /** The server type. */
    declare public readonly plan?: string;
    /** The server. */
    public readonly server: hcloud.Server;
    /** The firewall applied to it. */
    public readonly firewall: hcloud.Firewall;

    constructor(name: string, args: HetznerCloudHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        throwIfAny([
            ...hostArgsProblems({ name: hostname, provider: ID, arch: args.arch, plan: args.serverType, location: args.location, port: args.port, user: args.user }),
            ...adminCidrsProblems(args.adminCidrs, "args.adminCidrs", hostname),
        ], `HetznerCloudHost "${hostname}"`);
        const facts = hostFacts({ name: hostname, provider: ID, arch: args.arch, plan: args.serverType }, "github-runner");
        const [serverType, arch] = [facts.plan as string, facts.arch as Arch];
        const labels = { "runner-fleet": hostname, arch, ...(args.labels ?? {}) };
        super(hetznerCloud.typeToken, name, {}, opts);
        const parent = { parent: this };
        const key = new hcloud.SshKey(`${name}-ssh-key`, {
            name: `runner-fleet-${hostname}`,
            // Hetzner stores the key trimmed (since 2026-04-22) and the provider compares what it sent with what it
            // read back: an untrimmed key (a .pub file ends in a newline) fails the apply with "inconsistent result
            // after apply" (hetznercloud/terraform-provider-hcloud#1389).
            publicKey: pulumi.output(args.sshPublicKey).apply(k => k.trim()),
            labels,
        }, parent);
        this.firewall = new hcloud.Firewall(`${name}-firewall`, {
            name: `runner-fleet-${hostname}`,
            labels,
            rules: sshOnlyRules(args.adminCidrs),
        }, parent);
        this.server = new hcloud.Server(`${name}-server`, {
            name: hostname,
            serverType,
            image: HETZNER_IMAGE,
            location: args.location,
            sshKeys: [key.id],
            firewallIds: [this.firewall.id.apply(Number)],
            publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
            labels,
        }, parent);
        const host = connectMachine(this, name, { hostname, arch, kvm: facts.kvm, ssh: args, provider: ID, plan: serverType },
            { address: this.server.ipv4Address, hostId: this.server.id, after: [this.server] });
        Object.assign(this, host);
        this.registerOutputs(hostOutputRecord(host, { serverId: this.server.id }));
    }
}

/** The firewall's inbound rules: TCP 22 from the admin networks, nothing else (Hetzner firewalls drop unmatched inbound traffic). */
export function sshOnlyRules(adminCidrs: readonly string[]): hcloud.types.input.FirewallRule[] {
    return [{
        description: "SSH from admin networks",
        direction: "in",
        protocol: "tcp",
        port: "22",
        sourceIps: [...adminCidrs],
    }];
}
