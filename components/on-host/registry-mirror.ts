// RegistryMirror: a Docker Hub pull-through cache on one host, so that jobs
// behind one egress address stop hitting Docker Hub's rate limit. The CNCF
// distribution registry 3 in proxy mode (a release archive whose sha256 the
// catalog pins), bound to a private address only, with Docker and containerd
// pointed at it. On actuated hosts the agent's
// installer already runs such a mirror on the VM bridge (192.168.128.1:5000):
// there this only checks that it answers, and installs no second one.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { MirrorMode } from "../remote/drift-contract";
import { settingProblems } from "../spec/parse";
import { Problem, throwIfAny } from "../spec/problems";
import { ACTUATED_MIRROR_ADDRESS } from "../spec/resolve";
import { DEFAULTS, EndpointsSchema, MirrorSchema } from "../spec/settings";
import { afterProblems } from "../spec/problems";
import { afterFieldProblems, dockerHubTokenProblems, insecureUrlProblems, mirrorReleaseArchProblems } from "../spec/rules";
import { MIRROR_REGISTRY_RELEASE, MirrorRegistryRelease } from "../spec/catalog";
import { RunnerHost } from "../hosts/host";
import { hostScriptCommand, secretLines } from "./host-command";

export interface RegistryMirrorArgs {
    /** The host the mirror runs on: a host component's outputs, or the same fields of a machine of your own. */
    readonly host: RunnerHost;
    /** `registry`: install and run the mirror; `actuated`: check the one actuated's installer runs. */
    readonly mode: MirrorMode;
    /** Where it listens: loopback or a private address such as the Docker bridge. Default: mirror.bindAddress's. */
    readonly bindAddress?: string;
    /** The registry it caches. Default: mirror.upstream's (Docker Hub). */
    readonly upstream?: string;
    /** How long cached content is kept. Default: mirror.ttl's. */
    readonly ttl?: string;
    /** Where the registry's release archives come from. Default: endpoints.mirrorDownloads's. */
    readonly downloads?: string;
    /**
     * Take plain http:// for `upstream` and `downloads` (endpoints.allowInsecureHttp's
     * rule): for test stand-ins and air-gapped mirrors only. Default false: https only.
     */
    readonly allowInsecureHttp?: boolean;
    /** The registry release and its archives' sha256, for a build of your own. Default: the catalog's. */
    readonly release?: MirrorRegistryRelease;
    /** Docker Hub user whose token lifts the anonymous pull limit. */
    readonly dockerHubUsername?: string;
    /** Docker Hub access token; kept secret. */
    readonly dockerHubToken?: pulumi.Input<string>;
    /** Point Docker (registry-mirrors) and containerd (hosts.toml) at the mirror. Default true. */
    readonly configureRuntime?: boolean;
    /**
     * Resources on the same host it must follow, such as the agent install. Typed any: a component schema has no type for "any
     * resource"; a program in another language passes resource references.
     * Anything that is not a resource is refused.
     */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly after?: any[];
}

export function mirrorProblems(args: RegistryMirrorArgs): Problem[] {
    const problems: Problem[] = afterProblems(args.after);
    if (args.mode === "registry") {
        problems.push(...settingProblems(MirrorSchema.shape.bindAddress, args.bindAddress, "bindAddress"));
        problems.push(...settingProblems(MirrorSchema.shape.upstream, args.upstream, "upstream"));
        problems.push(...settingProblems(MirrorSchema.shape.ttl, args.ttl, "ttl"));
        problems.push(...settingProblems(EndpointsSchema.shape.mirrorDownloads, args.downloads, "downloads"));
        problems.push(...settingProblems(MirrorSchema.shape.dockerHubUsername, args.dockerHubUsername, "dockerHubUsername"));
        if (args.release !== undefined) {
            // The declaration's formats; an arch no mirror here runs on may be left empty.
            const sha256 = Object.fromEntries(Object.entries(args.release.sha256 ?? {}).filter(([, hash]) => hash !== ""));
            const formats = settingProblems(MirrorSchema.shape.release, { version: args.release.version, sha256 }, "release");
            problems.push(...afterFieldProblems(formats, mirrorReleaseArchProblems(args.release, args.host.arch, args.host.name)));
        }
        problems.push(...dockerHubTokenProblems(args.dockerHubUsername, args.dockerHubToken !== undefined));
    } else if (args.mode !== "actuated") {
        problems.push({ path: "mode", message: `"${args.mode}" is not a mirror mode`, fix: "use registry or actuated" });
    }
    if (args.mode !== "registry") {
        return problems;
    }
    return afterFieldProblems(problems, insecureUrlProblems({ upstream: args.upstream, downloads: args.downloads }, args.allowInsecureHttp, "allowInsecureHttp"));
}

export class RegistryMirror extends pulumi.ComponentResource {
    /** Its Pulumi type token. */
    public static readonly TYPE = "runner-fleet:index:RegistryMirror";

    /** Installs and configures the mirror (or checks actuated's); its delete side removes it. */
    public readonly configure: command.remote.Command;
    /** Where jobs on this host reach the mirror. */
    public readonly address: string;
    /** The settings hash the mirror's step records on the host (for drift checks). */
    public readonly settingsHash: string;
    /** Which mirror runs on the host. */
    public readonly mode: MirrorMode;

    constructor(name: string, args: RegistryMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfAny(mirrorProblems(args), `RegistryMirror "${name}"`);
        super(RegistryMirror.TYPE, name, {}, opts);
        this.mode = args.mode;
        const release = args.release ?? MIRROR_REGISTRY_RELEASE;
        this.address = args.mode === "actuated" ? ACTUATED_MIRROR_ADDRESS : (args.bindAddress ?? DEFAULTS.mirror.bindAddress);
        const env: Record<string, string> = args.mode === "actuated"
            ? { RUNNER_FLEET_HOST: args.host.name, MIRROR_MODE: "actuated" }
            : {
                RUNNER_FLEET_HOST: args.host.name,
                MIRROR_MODE: "registry",
                MIRROR_BIND: this.address,
                MIRROR_UPSTREAM: args.upstream ?? DEFAULTS.mirror.upstream,
                MIRROR_TTL: args.ttl ?? DEFAULTS.mirror.ttl,
                MIRROR_VERSION: release.version,
                MIRROR_SHA256: release.sha256[args.host.arch] ?? "",
                MIRROR_DOWNLOAD_URL: args.downloads ?? DEFAULTS.endpoints.mirrorDownloads,
                DOCKERHUB_USERNAME: args.dockerHubUsername ?? "",
                RUNTIME_CONFIG: (args.configureRuntime ?? true) ? "1" : "0",
            };
        const withToken = args.mode === "registry" && args.dockerHubUsername !== undefined;
        const result = hostScriptCommand(`${name}-configure`, {
            host: args.host, script: "configure-mirror.sh", env,
            deleteScript: "remove-mirror.sh",
            deleteEnv: { RUNNER_FLEET_HOST: args.host.name, MIRROR_MODE: args.mode, MIRROR_BIND: this.address },
            stdin: withToken ? secretLines({ "dockerhub-token": args.dockerHubToken }) : undefined,
            secret: withToken,
        }, { parent: this, dependsOn: [args.host.ready, ...(args.after ?? [])] });
        this.configure = result.command;
        this.settingsHash = result.hash;
        this.registerOutputs({ address: this.address, settingsHash: this.settingsHash, host: args.host.name });
    }
}
