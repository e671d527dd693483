// HetznerCloudHost: a Hetzner Cloud server (CAX for arm64, CCX or CPX for
// amd64) with its SSH key and a firewall that lets in SSH from the admin
// networks only. Hetzner Cloud has no nested virtualisation: no KVM, so these
// hosts run the plain GitHub Actions runner, not actuated.

import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import { Arch, resolvePlan } from "../spec/catalog";
import { Problem, throwIfAny } from "../spec/problems";
import { hostArgsProblems } from "../spec/rules";
import { HostComponent, SshArgs } from "./host";

/** The image: Ubuntu 22.04, the release actuated certifies, so both agents share one OS. */
export const HETZNER_IMAGE = "ubuntu-22.04";

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
    readonly adminCidrs: readonly string[];
    /** Extra server labels. */
    readonly labels?: Readonly<Record<string, string>>;
}

export class HetznerCloudHost extends HostComponent {
    public readonly server: hcloud.Server;
    public readonly firewall: hcloud.Firewall;

    constructor(name: string, args: HetznerCloudHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        const problems: Problem[] = hostArgsProblems({ name: hostname, provider: "hetzner-cloud", arch: args.arch, plan: args.serverType, location: args.location, port: args.port, user: args.user });
        if (args.adminCidrs.length === 0) {
            problems.push({ path: "args.adminCidrs", message: "is empty, and the firewall opens SSH only to adminCidrs", fix: "list the networks Pulumi and your admins connect from, such as [198.51.100.0/24]" });
        }
        throwIfAny(problems, `HetznerCloudHost "${hostname}"`);
        const { plan: serverType, arch } = resolvePlan("hetzner-cloud", args.serverType, args.arch);
        const labels = { "runner-fleet": hostname, arch, ...(args.labels ?? {}) };
        super("runner-fleet:index:HetznerCloudHost", name, { hostname, arch, kvm: false, ssh: args, provider: "hetzner-cloud", plan: serverType }, opts);
        const parent = { parent: this };
        const key = new hcloud.SshKey(`${name}-ssh-key`, {
            name: `runner-fleet-${hostname}`,
            publicKey: args.sshPublicKey,
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
        this.connect({ address: this.server.ipv4Address, hostId: this.server.id, after: [this.server], outputs: { serverId: this.server.id } });
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
