// The contract every host source fulfils, and the wait-for-SSH step they share.
// Everything after provisioning (agent, mirror) depends only on this.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Arch } from "../spec/catalog";
import { HostSource, hostSource, registerHostSource } from "../spec/host-sources";
import { ResolvedHost } from "../spec/resolve";
import { DEFAULTS, FleetSpec, HostSpec } from "../spec/settings";
import { HOST_SCRIPT_STAGE, hostScriptFolder, renderReadyCommand, renderReadyDelete } from "../remote/remote-script";

/** How to reach a host over SSH, as @pulumi/command's remote commands take it. */
export type ConnectionArgs = command.types.input.remote.ConnectionArgs;

/**
 * A machine that can take a runner agent, wherever it came from: what the
 * agent and the mirror need of a host. Every host component's outputs carry
 * these fields under the same names, so a program in any language passes a
 * host's outputs on as they are.
 */
export interface RunnerHost {
    /** The host's name in the fleet and its hostname: the runners' names start with it. */
    readonly name: string;
    /** The machine's CPU architecture, checked against `uname -m` by the ready step. */
    readonly arch: Arch;
    /** Whether the host can run microVMs: actuated needs /dev/kvm. */
    readonly kvm: boolean;
    /** Where SSH reaches the host: its address. */
    readonly publicIp: pulumi.Input<string>;
    /** How to reach the host over SSH. Secret as a whole: it carries the private key. */
    readonly connection: pulumi.Input<ConnectionArgs>;
    /**
     * The step everything on the host follows: SSH answers, the host finished booting, its arch is the declared
     * one, the fleet's scripts are installed. An input, so that a host component's output can be handed on as it is.
     */
    readonly ready: pulumi.Input<command.remote.Command>;
    /** Changes when the machine is replaced (server id, or address for existing hosts); part of every command's triggers. */
    readonly hostId: pulumi.Input<string>;
}

/** What every host component outputs: the RunnerHost fields, and how to reach the host later. */
export interface HostOutputs extends RunnerHost {
    readonly ready: command.remote.Command;
    readonly publicIp: pulumi.Output<string>;
    readonly connection: pulumi.Output<ConnectionArgs>;
    readonly hostId: pulumi.Output<string>;
    /** The host's SSH public key: the pinned one, or the one the ready step saw. For later connections such as drift checks. */
    readonly hostKey: pulumi.Output<string | undefined>;
    /** SSH login user. */
    readonly sshUser: string;
    /** SSH port. */
    readonly sshPort: number;
    /** The host source it comes from. */
    readonly provider: string;
    /** Its catalog plan, when known: the cost estimate's key. */
    readonly plan?: string;
}

/**
 * A host component: a ComponentResource with the host outputs, such as
 * ExistingHost. A host source of one's own declares the HostOutputs fields on
 * its class (declare-only: the schema of the component package lists a
 * component's own fields) and fills them from connectMachine.
 */
export type HostComponent = pulumi.ComponentResource & HostOutputs;

/** SSH settings shared by the host components. */
export interface SshArgs {
    /** The host's name in the fleet and its hostname; the resource name unless set. */
    readonly hostname?: string;
    /** SSH private key (PEM or OpenSSH). Kept secret. */
    readonly privateKey: pulumi.Input<string>;
    /** Login user; `root` unless set. Non-root users need password-less sudo. */
    readonly user?: string;
    /** SSH port; 22 unless set. */
    readonly port?: number;
    /** The host's public key (`ssh-ed25519 AAAA...`). When set, connections to any other key are refused. */
    readonly hostKey?: pulumi.Input<string>;
    /** How long to wait for SSH and for the boot to finish, in minutes. Default 20. */
    readonly bootTimeoutMinutes?: number;
}

/** Seconds one SSH dial may take before the provider tries again. */
export const PER_DIAL_TIMEOUT_SECONDS = 15;

/**
 * The connection to a host: retries dials without limit (a server that is
 * still booting refuses them for minutes); the wait step's create timeout
 * bounds the whole wait. The result is secret, because of the private key.
 */
export function sshConnection(host: pulumi.Input<string>, ssh: SshArgs): pulumi.Output<ConnectionArgs> {
    // Secret as a whole (one wrapper: the SDK's Outputs are what a fleet of hundreds of hosts is made of).
    return pulumi.secret(pulumi.all([host, ssh.hostKey, ssh.privateKey])
        .apply(([h, hostKey, privateKey]): ConnectionArgs => ({
            host: h,
            user: ssh.user ?? "root",
            port: ssh.port ?? 22,
            privateKey,
            ...(hostKey ? { hostKey } : {}),
            dialErrorLimit: -1,
            perDialTimeout: PER_DIAL_TIMEOUT_SECONDS,
        })));
}

export interface WaitForSshArgs {
    readonly hostName: string;
    readonly arch: Arch;
    readonly connection: pulumi.Output<ConnectionArgs>;
    readonly hostId: pulumi.Input<string>;
    readonly bootTimeoutMinutes?: number;
}

/**
 * The `scripts` step, then the `ready` step. The copy sends the package's
 * scripts/host/ folder over SFTP into HOST_SCRIPT_STAGE under the login
 * user's home, and is what waits until SSH answers (unlimited dial retries
 * within the boot timeout). The state keeps the folder's path and the hash of
 * its content (pulumi's archive hash: file names and bytes, no times or
 * modes), and the engine compares archives by that hash only (pulumi
 * sdk/go/common/resource/archive, Archive.Equals): the copy runs again when a
 * script changes (pulumi-command provider/pkg/provider/remote/
 * copyController.go: an update copies when the hash or the remote path
 * changed) and on a new machine (the host id is its trigger, which replaces
 * it), not because the package sits in another folder on another operator's
 * machine. The ready step then waits for cloud-init, checks `uname -m`
 * against the declared arch and installs the scripts, once the copy matches
 * the folder's hash (renderReadyCommand). Its text carries that hash: a new
 * script updates it in place; only a new machine replaces it, and its
 * delete side removes the installed scripts and the staged copy. Named
 * `<host>-scripts` and `<host>-ready`, so a timeout names the host.
 */
export function waitForSsh(name: string, args: WaitForSshArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const minutes = args.bootTimeoutMinutes ?? DEFAULTS.bootTimeoutMinutes;
    const timeouts = { create: `${minutes}m`, update: `${minutes}m` };
    const scripts = new command.remote.CopyToRemote(`${name}-scripts`, {
        connection: args.connection,
        source: new pulumi.asset.FileArchive(hostScriptFolder()),
        remotePath: HOST_SCRIPT_STAGE,
        triggers: [args.hostId],
    }, { ...opts, customTimeouts: timeouts });
    return new command.remote.Command(`${name}-ready`, {
        connection: args.connection,
        create: renderReadyCommand({
            RUNNER_FLEET_HOST: args.hostName,
            EXPECTED_ARCH: args.arch,
            BOOT_TIMEOUT: String(minutes * 60),
        }),
        delete: renderReadyDelete(),
        triggers: [args.hostId],
    }, {
        ...opts,
        dependsOn: [scripts],
        customTimeouts: timeouts,
    });
}

/**
 * The SSH connection, the scripts copy and the `ready` step of a host
 * component: what every host source does once it knows the machine's address.
 */
export function connectHost(parent: pulumi.ComponentResource, name: string, args: {
    readonly hostname: string;
    readonly arch: Arch;
    readonly address: pulumi.Input<string>;
    readonly hostId: pulumi.Input<string>;
    readonly ssh: SshArgs;
    /** Resources the wait must follow (the server itself). */
    readonly after?: pulumi.Resource[];
}): { connection: pulumi.Output<ConnectionArgs>; ready: command.remote.Command; hostKey: pulumi.Output<string | undefined> } {
    const connection = sshConnection(args.address, args.ssh);
    const ready = waitForSsh(name, {
        hostName: args.hostname, arch: args.arch, connection, hostId: args.hostId,
        bootTimeoutMinutes: args.ssh.bootTimeoutMinutes,
    }, { parent, dependsOn: args.after ?? [] });
    const pinned = args.ssh.hostKey;
    const hostKey = pinned !== undefined
        ? pulumi.output(pinned).apply(k => k as string | undefined)
        : ready.stdout.apply(observedHostKey);
    return { connection, ready, hostKey };
}

/** The host key ready.sh printed ("host-key: <type> <key>"), if any. */
export function observedHostKey(stdout: string | undefined): string | undefined {
    const m = /^host-key: (\S+ \S+)$/m.exec(stdout ?? "");
    return m ? m[1] : undefined;
}

/** What a host source provides once its machine exists. */
export interface ProvisionedMachine {
    /** Where SSH reaches it. */
    readonly address: pulumi.Input<string>;
    /** Changes when the machine is replaced. */
    readonly hostId: pulumi.Input<string>;
    /** Resources the wait for SSH must follow (the server itself). */
    readonly after?: pulumi.Resource[];
}

/** What a host component is before its machine exists: its name, arch and KVM, SSH settings and source. */
export interface HostBasics {
    readonly hostname: string;
    readonly arch: Arch;
    readonly kvm: boolean;
    readonly ssh: SshArgs;
    readonly provider: string;
    readonly plan?: string;
}

/**
 * Connects a host component to the machine it created: the SSH connection,
 * the scripts copy and the ready step, as children of `component` named
 * after `name`. Returns the host outputs, which the component assigns to
 * itself (Object.assign) and registers with hostOutputRecord. Called once,
 * last in the constructor.
 */
export function connectMachine(component: pulumi.ComponentResource, name: string, host: HostBasics, machine: ProvisionedMachine): HostOutputs {
    const hostId = pulumi.output(machine.hostId);
    const c = connectHost(component, name, {
        hostname: host.hostname, arch: host.arch, address: machine.address, hostId, ssh: host.ssh, after: machine.after,
    });
    return {
        name: host.hostname, arch: host.arch, kvm: host.kvm, provider: host.provider, plan: host.plan,
        sshUser: host.ssh.user ?? "root", sshPort: host.ssh.port ?? 22,
        publicIp: pulumi.output(machine.address), hostId, ...c,
    };
}

/**
 * What a host component records in the state as its outputs: the host's
 * facts and address, and its source's own (`extra`, such as the server id).
 * Not the connection, which every command keeps already: a fleet's state
 * grows with each copy. A program in another language gets every output
 * from the component package, which reads the component's fields.
 */
export function hostOutputRecord(o: HostOutputs, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { hostname: o.name, provider: o.provider, plan: o.plan ?? null, publicIp: o.publicIp, arch: o.arch, kvm: o.kvm, ...extra };
}

/** What the fleet hands a host source to create one of its hosts: the host resolved once, and the settings around it. */
export interface HostCreation {
    /** The component's resource name. */
    readonly name: string;
    /** The host as written (its source's own fields by name). */
    readonly host: HostSpec;
    /** Its arch, plan, KVM and region, as the fleet resolved them. */
    readonly resolved: ResolvedHost;
    /** The fleet's settings (the source's own fleet-wide ones by name). */
    readonly fleet: FleetSpec;
    /** The SSH settings every host takes, the private key among them. */
    readonly ssh: SshArgs;
    readonly opts: pulumi.ComponentResourceOptions;
}

/** A host source with the component that creates its hosts: what one file under hosts/ declares. */
export interface HostSourceComponent extends HostSource {
    create(c: HostCreation): HostComponent;
}

/** Registers a source (its declaration, for the settings and rules; its create, for the fleet) and hands it back. */
export function defineHostSource<T extends HostSourceComponent>(source: T): T {
    registerHostSource(source);
    return source;
}

/** The registered source of a provider id, with its create. */
export function hostSourceComponent(id: string): HostSourceComponent {
    const source = hostSource(id) as HostSourceComponent | undefined;
    if (source === undefined || typeof source.create !== "function") {
        throw new Error(`runner-fleet: no host source "${id}" with a host component is registered`);
    }
    return source;
}
