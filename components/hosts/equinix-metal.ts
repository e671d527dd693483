// EquinixMetalHost: a bare-metal device on Equinix Metal. Equinix Metal
// stopped taking new customers and reached end of life on 2026-06-30: keep
// this for existing hardware reservations and for migrating off it.
// @pulumi/equinix-metal is used in this file only.

import * as pulumi from "@pulumi/pulumi";
import * as metal from "@pulumi/equinix-metal";
import { Arch, resolvePlan } from "../spec/catalog";
import { throwIfAny } from "../spec/problems";
import { hostArgsProblems } from "../spec/rules";
import { HostComponent, SshArgs } from "./host";

/** The OS actuated certifies. */
export const EQUINIX_OS = "ubuntu_22_04";

export interface EquinixMetalHostArgs extends SshArgs {
    /** The Metal project (UUID) that owns the device. */
    readonly projectId: pulumi.Input<string>;
    /** Metro code, such as `da` or `sv`. */
    readonly metro: string;
    /** CPU architecture; arm64 unless set. */
    readonly arch?: Arch;
    /** Plan; `c3.large.arm64` (Ampere Altra Q80-30, 80 cores) for arm64, `c3.medium.x86` for amd64 unless set. */
    readonly plan?: string;
    /** Public half of `privateKey`, registered as a project SSH key and installed on the device. */
    readonly sshPublicKey: pulumi.Input<string>;
    /** Deploy onto this hardware reservation. */
    readonly hardwareReservationId?: pulumi.Input<string>;
    /** Extra device tags; `runner-fleet` and the arch are always set. */
    readonly tags?: readonly string[];
}

export class EquinixMetalHost extends HostComponent {
    public readonly device: metal.Device;

    constructor(name: string, args: EquinixMetalHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        throwIfAny(hostArgsProblems({
            name: hostname, provider: "equinix-metal", arch: args.arch, plan: args.plan, metro: args.metro, tags: args.tags ? [...args.tags] : undefined, port: args.port, user: args.user,
        }), `EquinixMetalHost "${hostname}"`);
        const { plan, arch } = resolvePlan("equinix-metal", args.plan, args.arch);
        super("runner-fleet:index:EquinixMetalHost", name, { hostname, arch, kvm: true, ssh: args, provider: "equinix-metal", plan }, opts);
        const key = new metal.ProjectSshKey(`${name}-ssh-key`, {
            projectId: args.projectId,
            name: `runner-fleet-${hostname}`,
            publicKey: args.sshPublicKey,
        }, { parent: this });
        // No user data: changing it replaces a bare-metal server, and the agent
        // is installed over SSH where it can be updated in place.
        this.device = new metal.Device(`${name}-device`, {
            hostname,
            projectId: args.projectId,
            metro: args.metro,
            plan,
            operatingSystem: EQUINIX_OS,
            billingCycle: "hourly",
            hardwareReservationId: args.hardwareReservationId,
            projectSshKeyIds: [key.id],
            tags: ["runner-fleet", `arch:${arch}`, ...(args.tags ?? [])],
        }, { parent: this });
        this.connect({ address: this.device.accessPublicIpv4, hostId: this.device.id, after: [this.device], outputs: { deviceId: this.device.id } });
    }
}
