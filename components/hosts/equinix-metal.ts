// EquinixMetalHost: a bare-metal device on Equinix Metal. Equinix Metal
// stopped taking new customers and reached end of life on 2026-06-30: keep
// this for existing hardware reservations and for migrating off it.
// Everything the package knows of Equinix Metal is in this file: the
// `equinix-metal` host source (its fields, metros, plans and prices, the
// project setting) and the component. @pulumi/equinix-metal is used here only.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as metal from "@pulumi/equinix-metal";
import { z } from "zod";
import { Arch, CatalogEntry, HOURS_PER_MONTH, round2 } from "../spec/catalog";
import { throwIfAny } from "../spec/problems";
import { hostFacts } from "../spec/resolve";
import { hostArgsProblems } from "../spec/rules";
import { LINE_FIX_TAIL, checked, lineProblem, matches, setting, uuidProblem } from "../spec/settings";
import { ConnectionArgs, HostOutputs, SshArgs, connectMachine, defineHostSource, hostOutputRecord } from "./host";

/** The OS actuated certifies. */
export const EQUINIX_OS = "ubuntu_22_04";

const ID = "equinix-metal";

// Metros: the ones Equinix documented (docs.equinix.com/metal/locations,
// checked 2026-11-23): da, dc, sv, am, fr, sg, sy and ny; the rest are metros
// it ran in 2024.
const METROS = [
    "am", "at", "ch", "da", "dc", "fr", "hk", "la", "ld", "md", "ml", "mt",
    "ny", "os", "pa", "se", "sg", "sk", "sl", "sp", "sv", "sy", "tr", "ty",
] as const;

// On-demand, USD per hour. Equinix Metal's pricing page is gone; these are the
// on-demand prices it listed in 2023-2024, not re-verified against a saved
// copy, and they varied by metro. They matter for hardware reservations
// (priced by contract) and migrations only.
const plan = (name: string, arch: Arch, cpu: string, cores: number, memoryGb: number, hourly: number): CatalogEntry => ({
    plan: name, provider: ID, arch, cpu, cores, memoryGb, kvm: true,
    monthlyPrice: round2(hourly * HOURS_PER_MONTH), currency: "USD", regions: METROS,
});

export const equinixMetal = defineHostSource({
    id: ID,
    title: "Equinix Metal",
    typeToken: "runner-fleet:index:EquinixMetalHost",
    creates: true,
    kvm: true,
    region: { field: "metro", what: "Equinix Metal metro", values: METROS },
    defaultPlans: { arm64: "c3.large.arm64", amd64: "c3.medium.x86" },
    plans: [
        plan("c3.large.arm64", "arm64", "Ampere Altra Q80-30", 80, 256, 2.5),
        plan("c3.small.x86", "amd64", "Intel Xeon E-2378G", 8, 64, 0.75),
        plan("c3.medium.x86", "amd64", "AMD EPYC 7402P", 24, 64, 1.5),
        plan("m3.small.x86", "amd64", "Intel Xeon E-2378G", 8, 64, 1.05),
        plan("m3.large.x86", "amd64", "AMD EPYC 7502P", 32, 256, 3.1),
        plan("n3.xlarge.x86", "amd64", "Intel Xeon Gold 6314", 32, 512, 4.5),
    ],
    hostFields: {
        metro: setting(matches(/^[a-z][a-z0-9]{1,7}$/, "a metro code").optional(), {
            description: "Equinix Metal metro code such as `da`", fix: "write the metro's code in lower case, such as da or sv", appliesTo: ID,
        }),
        // The Metal API takes a reservation's UUID or `next-available` (terraform-provider-equinix, metal_device: hardware_reservation_id).
        hardwareReservationId: setting(checked(v => v === "next-available" ? undefined : uuidProblem(v)).optional(), {
            description: "deploy on this hardware reservation: its UUID, or `next-available`",
            fix: "write the reservation's UUID (8-4-4-4-12 hex digits) or next-available", docType: "UUID or next-available", appliesTo: ID,
        }),
        tags: setting(z.array(checked(lineProblem)).optional(), {
            description: "extra device tags", fix: `write each tag as ${LINE_FIX_TAIL}, such as team:ci`, appliesTo: ID,
        }),
    },
    fleetFields: {
        equinixProjectId: setting(checked(uuidProblem).optional(), {
            description: "the Equinix Metal project (its UUID) that owns the devices", defaultText: "required with an `equinix-metal` host",
            fix: "write the project's UUID (8-4-4-4-12 hex digits) from the Metal console's project settings", docType: "UUID",
        }),
    },
    fleetProblems: (fleet, firstHost) => fleet.equinixProjectId ? [] : [{
        path: "equinixProjectId", message: `host "${firstHost}" is an Equinix Metal device and no project is set`,
        fix: "set runner-fleet:equinixProjectId to the Metal project's UUID",
    }],
    create: ({ name, host, resolved, fleet, ssh, opts }) => new EquinixMetalHost(name, {
        ...ssh, projectId: fleet.equinixProjectId as string, metro: host.metro as string, arch: resolved.arch, plan: resolved.plan,
        sshPublicKey: fleet.sshPublicKey as string, hardwareReservationId: host.hardwareReservationId as string | undefined,
        tags: host.tags as string[] | undefined,
    }, opts),
});

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
    readonly tags?: string[];
}

const DEVICES = new WeakMap<EquinixMetalHost, metal.Device>();

/** An Equinix Metal bare-metal server (Ampere Altra or x86) with the fleet's project SSH key. */
export class EquinixMetalHost extends pulumi.ComponentResource implements HostOutputs {
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
    /** The host source: `equinix-metal`. */
    declare public readonly provider: string;
    /** The Metal plan. */
    declare public readonly plan?: string;
    /** The device's id. */
    public readonly deviceId: pulumi.Output<string>;
    /** The device (TypeScript; other languages get deviceId: @pulumi/equinix-metal names no package in its schema). */
    public get device(): metal.Device {
        return DEVICES.get(this) as metal.Device;
    }

    constructor(name: string, args: EquinixMetalHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        throwIfAny(hostArgsProblems({
            name: hostname, provider: ID, arch: args.arch, plan: args.plan, metro: args.metro, tags: args.tags ? [...args.tags] : undefined, port: args.port, user: args.user,
        }), `EquinixMetalHost "${hostname}"`);
        const facts = hostFacts({ name: hostname, provider: ID, arch: args.arch, plan: args.plan }, "actuated");
        const [chosen, arch] = [facts.plan as string, facts.arch as Arch];
        super(equinixMetal.typeToken, name, {}, opts);
        const key = new metal.ProjectSshKey(`${name}-ssh-key`, {
            projectId: args.projectId,
            name: `runner-fleet-${hostname}`,
            publicKey: args.sshPublicKey,
        }, { parent: this });
        // No user data: changing it replaces a bare-metal server, and the agent
        // is installed over SSH where it can be updated in place.
        const device = new metal.Device(`${name}-device`, {
            hostname,
            projectId: args.projectId,
            metro: args.metro,
            plan: chosen,
            operatingSystem: EQUINIX_OS,
            billingCycle: "hourly",
            hardwareReservationId: args.hardwareReservationId,
            projectSshKeyIds: [key.id],
            tags: ["runner-fleet", `arch:${arch}`, ...(args.tags ?? [])],
        }, { parent: this });
        const host = connectMachine(this, name, { hostname, arch, kvm: facts.kvm, ssh: args, provider: ID, plan: chosen },
            { address: device.accessPublicIpv4, hostId: device.id, after: [device] });
        DEVICES.set(this, device);
        this.deviceId = device.id;
        Object.assign(this, host);
        this.registerOutputs(hostOutputRecord(host, { deviceId: this.deviceId }));
    }
}
