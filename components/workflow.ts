// The multi-arch build workflow this fleet exists for: one job per platform
// on the fleet's native runners, in parallel, each pushing its image by
// digest; then one job that creates the manifest list over the digests.
// Rendered from a typed structure with a YAML library; optionally committed
// into repositories with github.RepositoryFile.

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import * as YAML from "yaml";
import { Arch } from "./catalog";
import { labelProblem } from "./labels";
import { Problem, throwIfAny } from "./problems";

// ---------------------------------------------------------------------------
// The shape of a GitHub Actions workflow, as much of it as is rendered here.

export type Scalar = string | number | boolean;

export interface WorkflowStep {
    readonly name?: string;
    readonly id?: string;
    readonly if?: string;
    readonly uses?: string;
    readonly with?: Readonly<Record<string, Scalar>>;
    readonly run?: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly "working-directory"?: string;
}

export interface MatrixEntry {
    readonly platform: string;
    readonly arch: Arch;
    /** The fleet's labels for this arch. */
    readonly runner: readonly string[];
    /** Whether the arch's runners are actuated microVMs (they get the hub-mirror step). */
    readonly actuated: boolean;
    /** buildkitd.toml for github-runner hosts whose mirror BuildKit's container can reach; empty otherwise. */
    readonly buildkitd: string;
}

export interface WorkflowJob {
    readonly name?: string;
    readonly "runs-on": string | readonly string[];
    readonly needs?: readonly string[];
    readonly if?: string;
    readonly permissions?: Readonly<Record<string, string>>;
    readonly strategy?: { readonly "fail-fast": boolean; readonly matrix: { readonly include: readonly MatrixEntry[] } };
    readonly env?: Readonly<Record<string, string>>;
    readonly steps: readonly WorkflowStep[];
}

export interface Workflow {
    readonly name: string;
    readonly on: Readonly<Record<string, unknown>>;
    readonly permissions: Readonly<Record<string, string>>;
    readonly concurrency: { readonly group: string; readonly "cancel-in-progress": boolean };
    readonly env: Readonly<Record<string, string>>;
    readonly jobs: Readonly<Record<string, WorkflowJob>>;
}

// ---------------------------------------------------------------------------
// What to build.

export interface BuildPlatform {
    readonly arch: Arch;
    /** The fleet's labels for this arch: what runs-on names. */
    readonly labels: readonly string[];
    /** The arch's runners are actuated microVMs. */
    readonly actuated: boolean;
    /** github-runner hosts: the mirror address, when BuildKit's container can reach it (not loopback). */
    readonly mirror?: string;
}

export interface BuildWorkflowOptions {
    /** The organization that owns the fleet: runs anywhere else fall back to hosted runners. */
    readonly org: string;
    /** The image, such as docker.io/my-org/app or ghcr.io/my-org/app. Per-arch images and the manifest list share this path. */
    readonly image: string;
    readonly platforms: readonly BuildPlatform[];
    /** Workflow name. Default "multi-arch image". */
    readonly name?: string;
    /** Branches whose pushes build and publish. Default [main]. */
    readonly branches?: readonly string[];
    /** Build context and Dockerfile. Default "." and "Dockerfile". */
    readonly context?: string;
    readonly dockerfile?: string;
    /** Tags of the manifest list. Default the commit SHA. */
    readonly tags?: readonly string[];
    /** Provenance attestations. Default false; see the comment in the rendered file. */
    readonly provenance?: boolean;
}

export const DEFAULT_WORKFLOW_PATH = ".github/workflows/multi-arch-image.yml";

const ACTIONS = {
    checkout: "actions/checkout@v4",
    hubMirror: "self-actuated/hub-mirror@master",
    qemu: "docker/setup-qemu-action@v3",
    buildx: "docker/setup-buildx-action@v3",
    login: "docker/login-action@v3",
    buildPush: "docker/build-push-action@v6",
    upload: "actions/upload-artifact@v4",
    download: "actions/download-artifact@v4",
} as const;

/** Every problem of the workflow's settings, under their own names (the fleet puts `workflow.` in front). */
export function workflowProblems(o: BuildWorkflowOptions & { readonly repositories?: readonly string[]; readonly path?: string }): Problem[] {
    const problems: Problem[] = [];
    const add = (path: string, message: string, fix: string) => problems.push({ path, message, fix });
    if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\.[a-z0-9-]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/.test(o.image)) {
        add("image", `"${o.image}" is not an image name without a tag`, "write it as registry/owner/name in lower case, such as docker.io/my-org/app");
    }
    if (o.platforms.length === 0) {
        add("", "the fleet has no arch to build on", "add hosts to the fleet");
    }
    o.platforms.forEach(p => p.labels.forEach(l => {
        const why = labelProblem(l);
        if (why) {
            add(`platforms.${p.arch}`, `the label ${why}`, "fix the fleet's labels");
        }
    }));
    for (const tag of o.tags ?? []) {
        if (!/^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|\$\{\{[^}]+\}\})$/.test(tag)) {
            add("tags", `"${tag}" is not an image tag`, "use letters, digits, '_', '.' and '-' (at most 128), or one ${{ }} expression");
        }
    }
    (o.repositories ?? []).forEach((r, i) => {
        if (!/^[A-Za-z0-9._-]{1,100}$/.test(r)) {
            add(`repositories[${i}]`, `"${r}" is not a repository name`, "name a repository of the organization, without the owner");
        }
    });
    const path = o.path ?? DEFAULT_WORKFLOW_PATH;
    if (!/^\.github\/workflows\/[A-Za-z0-9._-]+\.ya?ml$/.test(path)) {
        add("path", `"${path}" is not a workflow file`, "use .github/workflows/<name>.yml");
    }
    return problems;
}

/** Where pushes of the image log in: Docker Hub uses the org secrets, ghcr.io the job's token. */
function loginFor(image: string): WorkflowStep {
    const registry = image.split("/")[0];
    if (registry === "ghcr.io") {
        return { name: "Log in to ghcr.io", uses: ACTIONS.login, with: { registry, username: "${{ github.actor }}", password: "${{ secrets.GITHUB_TOKEN }}" } };
    }
    const hub = registry === "docker.io" || !registry.includes(".");
    return {
        name: `Log in to ${hub ? "Docker Hub" : registry}`,
        uses: ACTIONS.login,
        with: {
            ...(hub ? {} : { registry }),
            username: "${{ secrets.DOCKERHUB_USERNAME }}",
            password: "${{ secrets.DOCKERHUB_TOKEN }}",
        },
    };
}

/** BuildKit's config for a plain-HTTP Docker Hub mirror on the host. */
export function buildkitdMirrorConfig(mirror: string): string {
    return `[registry."docker.io"]\n  mirrors = ["${mirror}"]\n\n[registry."${mirror}"]\n  http = true\n`;
}

/** The runs-on expression: native runners inside the org (not for pull requests from forks), hosted ones anywhere else. */
export function nativeCondition(org: string): string {
    return `github.repository_owner == '${org}' && (github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository)`;
}

/** Builds the typed workflow. Pure. */
export function buildWorkflow(o: BuildWorkflowOptions): Workflow {
    const native = nativeCondition(o.org);
    const image = o.image;
    const publish = "github.event_name != 'pull_request'";
    const buildSteps: WorkflowStep[] = [
        { name: "Check out", uses: ACTIONS.checkout },
        {
            // actuated microVMs: point Docker and a buildx builder at the host's mirror on the VM bridge.
            name: "Use the host's Docker Hub mirror",
            if: `${native} && matrix.actuated`,
            uses: ACTIONS.hubMirror,
        },
        {
            name: "Set up QEMU (hosted fallback for a non-native arch)",
            if: `!(${native}) && matrix.arch != 'amd64'`,
            uses: ACTIONS.qemu,
        },
        {
            // hub-mirror already made a builder on actuated runners; another one here would replace it.
            name: "Set up Buildx",
            if: `!(${native} && matrix.actuated)`,
            uses: ACTIONS.buildx,
            with: {
                "buildkitd-config-inline": `\${{ (${native}) && matrix.buildkitd || '' }}`,
            },
        },
        { ...loginFor(image), if: publish },
        {
            name: "Build and push by digest",
            id: "build",
            uses: ACTIONS.buildPush,
            with: {
                context: o.context ?? ".",
                file: o.dockerfile ?? "Dockerfile",
                platforms: "${{ matrix.platform }}",
                provenance: o.provenance ?? false,
                outputs: `type=image,name=${image},push-by-digest=true,name-canonical=true,push=\${{ ${publish} }}`,
            },
        },
        {
            name: "Export the digest",
            if: publish,
            env: { DIGEST: "${{ steps.build.outputs.digest }}", DIGESTS: "${{ runner.temp }}/digests" },
            run: 'mkdir -p "$DIGESTS"\ntouch "$DIGESTS/${DIGEST#sha256:}"',
        },
        {
            name: "Upload the digest",
            if: publish,
            uses: ACTIONS.upload,
            with: { name: "digests-${{ matrix.arch }}", path: "${{ runner.temp }}/digests/*", "if-no-files-found": "error", "retention-days": 1 },
        },
    ];
    const tags = o.tags ?? ["${{ github.sha }}"];
    const mergeSteps: WorkflowStep[] = [
        {
            name: "Download the digests",
            uses: ACTIONS.download,
            with: { path: "${{ runner.temp }}/digests", pattern: "digests-*", "merge-multiple": true },
        },
        { name: "Set up Buildx", uses: ACTIONS.buildx },
        loginFor(image),
        {
            name: "Create the manifest list",
            "working-directory": "${{ runner.temp }}/digests",
            env: Object.fromEntries(tags.map((t, i) => [`TAG_${i}`, t])),
            run: [
                "set -eu",
                `args=""`,
                ...tags.map((_, i) => `args="$args -t $IMAGE:$TAG_${i}"`),
                "# shellcheck disable=SC2046,SC2086 # one word per tag and per digest",
                `docker buildx imagetools create $args $(printf "$IMAGE@sha256:%s " *)`,
            ].join("\n"),
        },
        {
            name: "Inspect the manifest list",
            env: { TAG: tags[0] },
            run: 'docker buildx imagetools inspect "$IMAGE:$TAG"',
        },
    ];
    return {
        name: o.name ?? "multi-arch image",
        on: {
            push: { branches: [...(o.branches ?? ["main"])] },
            pull_request: {},
            workflow_dispatch: {},
        },
        permissions: { contents: "read" },
        concurrency: { group: "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": true },
        env: { IMAGE: image },
        jobs: {
            build: {
                name: "build ${{ matrix.platform }}",
                "runs-on": `\${{ (${native}) && matrix.runner || 'ubuntu-latest' }}`,
                permissions: { contents: "read", packages: "write" },
                strategy: {
                    "fail-fast": false,
                    matrix: {
                        include: o.platforms.map(p => ({
                            platform: `linux/${p.arch}`,
                            arch: p.arch,
                            runner: [...p.labels],
                            actuated: p.actuated,
                            buildkitd: p.mirror ? buildkitdMirrorConfig(p.mirror) : "",
                        })),
                    },
                },
                steps: buildSteps,
            },
            merge: {
                name: "manifest list",
                "runs-on": "ubuntu-latest",
                needs: ["build"],
                if: publish,
                permissions: { contents: "read", packages: "write" },
                steps: mergeSteps,
            },
        },
    };
}

const PROVENANCE_COMMENT = [
    " Provenance attestations stay off: with one, each pushed image becomes a",
    " manifest list of its own, and the merge job would then make a manifest list",
    " of manifest lists, which older clients (and some registries) cannot pull.",
].join("\n");

/** The workflow as YAML text, with the comments that explain it. */
export function renderWorkflowYaml(o: BuildWorkflowOptions): string {
    const wf = buildWorkflow(o);
    const doc = new YAML.Document(wf);
    doc.commentBefore = [
        ` Written by runner-fleet: builds ${o.image} natively per arch on the fleet's`,
        " runners, in parallel, pushes each image by digest, then merges the digests",
        " into one manifest list in the same repository. Runs outside the",
        ` ${o.org} organization (forks, and pull requests from forks) use hosted`,
        " runners with QEMU instead, so forks keep building.",
    ].join("\n");
    const steps = doc.getIn(["jobs", "build", "steps"], true) as YAML.YAMLSeq;
    steps.items.forEach(item => {
        const step = item as YAML.YAMLMap;
        const withMap = step.get("with", true) as YAML.YAMLMap | undefined;
        const pair = withMap?.items.find(p => YAML.isScalar(p.key) && p.key.value === "provenance");
        if (pair && YAML.isScalar(pair.key)) {
            pair.key.commentBefore = PROVENANCE_COMMENT;
        }
    });
    return doc.toString({ lineWidth: 0 });
}

// ---------------------------------------------------------------------------
// The component: render, and commit where asked.

export interface BuildWorkflowArgs extends BuildWorkflowOptions {
    /** Repositories (names in the org) to commit the workflow into; none: render only. */
    readonly repositories?: readonly string[];
    /** Branch to commit to. Default the repository's default branch. */
    readonly branch?: string;
    /** Path of the file. Default .github/workflows/multi-arch-image.yml. */
    readonly path?: string;
    readonly commitMessage?: string;
    readonly provider?: github.Provider;
}

export class BuildWorkflow extends pulumi.ComponentResource {
    /** The rendered workflow. */
    public readonly yaml: string;
    public readonly files: readonly github.RepositoryFile[];

    constructor(name: string, args: BuildWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfAny(workflowProblems(args), `BuildWorkflow "${name}"`);
        super("runner-fleet:index:BuildWorkflow", name, {}, opts);
        this.yaml = renderWorkflowYaml(args);
        this.files = (args.repositories ?? []).map(repo => new github.RepositoryFile(`${name}-${repo}`, {
            repository: repo,
            file: args.path ?? DEFAULT_WORKFLOW_PATH,
            content: this.yaml,
            branch: args.branch,
            commitMessage: args.commitMessage ?? "Build the image natively per arch on runner-fleet",
            overwriteOnCreate: true,
        }, { parent: this, provider: args.provider }));
        this.registerOutputs({ yaml: this.yaml });
    }
}
