// The multi-arch build workflow this fleet exists for: one job per platform
// on the fleet's native runners, in parallel, each pushing its image by
// digest; then one job that creates the manifest list over the digests.
// Rendered from a typed structure with a YAML library; optionally committed
// into repositories with github.RepositoryFile.

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import * as YAML from "yaml";
import { Arch } from "../spec/catalog";
import { orgRepository } from "./github-org";
import { labelProblem } from "../spec/labels";
import { Problem, throwIfAny } from "../spec/problems";
import {
    branchProblem, commitMessageProblem, imageNameProblem, imageTagProblem, repoPathProblem, repositoryNameProblem, workflowPathProblem,
} from "../spec/settings";

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
    readonly defaults?: { readonly run: { readonly shell: string } };
    readonly steps: readonly WorkflowStep[];
}

export interface Workflow {
    readonly name: string;
    readonly on: Readonly<Record<string, unknown>>;
    readonly permissions: Readonly<Record<string, string>>;
    readonly concurrency: { readonly group: string; readonly "cancel-in-progress": boolean | string };
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

/** Provenance attestations: none, or build-push-action's mode=min / mode=max. */
export type Provenance = false | "min" | "max";
/** Where the per-arch builds keep BuildKit's cache: GitHub's cache service, the image's registry, or nowhere. */
export type BuildCache = "gha" | "registry" | "none";

export interface BuildWorkflowOptions {
    /** The organization that owns the fleet: runs anywhere else fall back to hosted runners and never publish. */
    readonly org: string;
    /** The image, such as docker.io/my-org/app or ghcr.io/my-org/app. Per-arch images and the manifest list share this path. */
    readonly image: string;
    readonly platforms: readonly BuildPlatform[];
    /** Workflow name. Default "multi-arch image". */
    readonly name?: string;
    /** Branches whose pushes build and publish. Default [main]. */
    readonly branches?: readonly string[];
    /** Build context. Default ".". */
    readonly context?: string;
    /** The Dockerfile, from the repository's root (build-push-action's `file`). Default `<context>/Dockerfile`. */
    readonly dockerfile?: string;
    /** Tags of the manifest list. Default the branch name and the commit SHA (docker/metadata-action). */
    readonly tags?: readonly string[];
    /** Provenance attestations. Default false; see the comment in the rendered file. `true` is `min`. */
    readonly provenance?: Provenance | true;
    /** BuildKit's cache between runs. Default gha. */
    readonly cache?: BuildCache;
}

export const DEFAULT_WORKFLOW_PATH = ".github/workflows/multi-arch-image.yml";

/**
 * The actions the workflow uses: the newest majors, all on Node 24 (GitHub
 * removes Node 20 from its runners: github.blog changelog 2025-09-19,
 * "Deprecation of Node 20 on GitHub Actions runners"). Each repository's
 * action.yml at that tag declares `runs.using: node24`, except hub-mirror,
 * a composite action (its newest tag, v4).
 */
export const ACTIONS = {
    checkout: "actions/checkout@v7",
    hubMirror: "self-actuated/hub-mirror@v4",
    qemu: "docker/setup-qemu-action@v4",
    buildx: "docker/setup-buildx-action@v4",
    login: "docker/login-action@v4",
    metadata: "docker/metadata-action@v6",
    buildPush: "docker/build-push-action@v7",
    upload: "actions/upload-artifact@v7",
    download: "actions/download-artifact@v8",
} as const;

/** Every problem of the workflow's settings, under their own names (the fleet puts `workflow.` in front). */
export function workflowProblems(o: BuildWorkflowOptions & {
    readonly repositories?: readonly string[]; readonly path?: string; readonly branch?: string; readonly commitMessage?: string;
}): Problem[] {
    const problems: Problem[] = [];
    const add = (path: string, message: string, fix: string) => problems.push({ path, message, fix });
    const imageWhy = imageNameProblem(o.image);
    if (imageWhy) {
        add("image", imageWhy, "write it as registry/owner/name in lower case, such as docker.io/my-org/app");
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
    if (o.provenance !== undefined && ![false, true, "min", "max"].includes(o.provenance as never)) {
        add("provenance", `"${String(o.provenance)}" is not a provenance mode`, "write false, min or max");
    }
    if (o.cache !== undefined && !["gha", "registry", "none"].includes(o.cache)) {
        add("cache", `"${String(o.cache)}" is not a cache backend`, "write gha, registry or none");
    }
    const contextWhy = o.context === undefined ? undefined : repoPathProblem(o.context);
    if (contextWhy) {
        add("context", contextWhy, "write a relative path such as . or app");
    }
    const dockerfileWhy = o.dockerfile === undefined ? undefined : repoPathProblem(o.dockerfile);
    if (dockerfileWhy) {
        add("dockerfile", dockerfileWhy, "write a path from the repository's root, such as app/Dockerfile");
    }
    for (const tag of o.tags ?? []) {
        const why = imageTagProblem(tag);
        if (why) {
            add("tags", why, "use letters, digits, '_', '.' and '-' (at most 128), or one ${{ }} expression");
        }
    }
    (o.branches ?? []).forEach((b, i) => {
        const why = branchProblem(b, true);
        if (why) {
            add(`branches[${i}]`, why, "write branch names or filter patterns such as main or release/**");
        }
    });
    (o.repositories ?? []).forEach((r, i) => {
        const why = repositoryNameProblem(r);
        if (why) {
            add(`repositories[${i}]`, why, "name a repository of the organization, without the owner");
        }
    });
    const branchWhy = o.branch === undefined ? undefined : branchProblem(o.branch);
    if (branchWhy) {
        add("branch", branchWhy, "write a branch name such as main");
    }
    const messageWhy = o.commitMessage === undefined ? undefined : commitMessageProblem(o.commitMessage);
    if (messageWhy) {
        add("commitMessage", messageWhy, "write a message without control characters (line breaks and tabs are fine)");
    }
    const pathWhy = workflowPathProblem(o.path ?? DEFAULT_WORKFLOW_PATH);
    if (pathWhy) {
        add("path", pathWhy, "use .github/workflows/<name>.yml");
    }
    return problems;
}

/** The Dockerfile build-push-action reads: `file` is from the workspace root, its default `<context>/Dockerfile`. */
export function dockerfileOf(o: Pick<BuildWorkflowOptions, "context" | "dockerfile">): string {
    if (o.dockerfile !== undefined) {
        return o.dockerfile;
    }
    const context = (o.context ?? ".").replace(/\/+$/, "");
    return context === "." || context === "" ? "Dockerfile" : `${context}/Dockerfile`;
}

/** Provenance as build-push-action takes it. */
function provenanceInput(p: BuildWorkflowOptions["provenance"]): string | false {
    return p === undefined || p === false ? false : `mode=${p === true ? "min" : p}`;
}

/** Where pushes of the image log in: Docker Hub (or another registry) with the org secrets, ghcr.io with the job's token. */
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

/**
 * Routing, not a security boundary: whether a run goes to the fleet's runners
 * (true) or to GitHub's hosted ones. True for the organization's own
 * repositories, except where the run carries a pull request, a workflow run or
 * a comment from elsewhere: pull_request(_target) from a fork, workflow_run of
 * a fork's run, issue_comment on a pull request (its payload does not say
 * where the head is). A pull request's workflow comes from its merge commit,
 * so a fork can rewrite this line; what keeps forks off the hosts is the
 * runner group's repository access and the organization's approval of fork
 * pull request workflows (README, "Who can reach the runners").
 */
export function fleetRouting(org: string): string {
    return [
        `github.repository_owner == '${org}'`,
        "(!github.event.pull_request || github.event.pull_request.head.repo.full_name == github.repository)",
        "(!github.event.workflow_run || github.event.workflow_run.head_repository.full_name == github.repository)",
        "!github.event.issue.pull_request",
    ].join(" && ");
}

/** Whether a run publishes: a push to a listed branch, or a manual run, in the organization's own repository (never a fork's). */
export function publishCondition(org: string): string {
    return `github.repository_owner == '${org}' && !github.event.repository.fork && (github.event_name == 'push' || github.event_name == 'workflow_dispatch')`;
}

/** The manifest list's tags, as docker/metadata-action rules: the given tags raw, else the branch and the full commit SHA. */
function tagRules(tags: readonly string[] | undefined): string {
    return (tags ?? []).length > 0
        ? (tags ?? []).map(t => `type=raw,value=${t}`).join("\n")
        : "type=ref,event=branch\ntype=sha,format=long,prefix=";
}

/** Builds the typed workflow. Pure. */
export function buildWorkflow(o: BuildWorkflowOptions): Workflow {
    const fleet = fleetRouting(o.org);
    const publish = publishCondition(o.org);
    const image = o.image;
    const ghcr = image.split("/")[0] === "ghcr.io";
    const cache = o.cache ?? "gha";
    const cacheInputs: Record<string, string> = cache === "gha"
        ? { "cache-from": "type=gha,scope=build-${{ matrix.arch }}", "cache-to": `\${{ (${publish}) && format('type=gha,scope=build-{0},mode=max', matrix.arch) || '' }}` }
        : cache === "registry"
            ? { "cache-from": `type=registry,ref=${image}:buildcache-\${{ matrix.arch }}`, "cache-to": `\${{ (${publish}) && format('type=registry,ref=${image}:buildcache-{0},mode=max', matrix.arch) || '' }}` }
            : {};
    const metadata = (id: string, extra: Record<string, Scalar> = {}): WorkflowStep => ({
        name: "Image metadata (tags, labels, annotations)", id, uses: ACTIONS.metadata,
        with: { images: image, tags: tagRules(o.tags), ...extra },
    });
    const buildSteps: WorkflowStep[] = [
        { name: "Check out", uses: ACTIONS.checkout },
        {
            // actuated microVMs: point Docker and a buildx builder at the host's mirror on the VM bridge.
            name: "Use the host's Docker Hub mirror",
            if: `(${fleet}) && matrix.actuated`,
            uses: ACTIONS.hubMirror,
        },
        {
            name: "Set up QEMU (hosted fallback for a non-native arch)",
            if: `!(${fleet}) && matrix.arch != 'amd64'`,
            uses: ACTIONS.qemu,
        },
        {
            // hub-mirror already made a builder on actuated runners; another one here would replace it.
            name: "Set up Buildx",
            if: `!((${fleet}) && matrix.actuated)`,
            uses: ACTIONS.buildx,
            with: {
                "buildkitd-config-inline": `\${{ (${fleet}) && matrix.buildkitd || '' }}`,
            },
        },
        metadata("meta"),
        { ...loginFor(image), if: publish },
        {
            name: "Build, and push by digest where it publishes",
            id: "build",
            uses: ACTIONS.buildPush,
            with: {
                context: o.context ?? ".",
                file: dockerfileOf(o),
                platforms: "${{ matrix.platform }}",
                labels: "${{ steps.meta.outputs.labels }}",
                annotations: "${{ steps.meta.outputs.annotations }}",
                provenance: provenanceInput(o.provenance),
                ...cacheInputs,
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
    const mergeSteps: WorkflowStep[] = [
        {
            name: "Download the digests",
            uses: ACTIONS.download,
            with: { path: "${{ runner.temp }}/digests", pattern: "digests-*", "merge-multiple": true },
        },
        { name: "Set up Buildx", uses: ACTIONS.buildx },
        // imagetools create takes index-level annotations only (buildx util/imagetools/create.go).
        { ...metadata("meta"), env: { DOCKER_METADATA_ANNOTATIONS_LEVELS: "index" } },
        loginFor(image),
        {
            name: "Create the manifest list",
            "working-directory": "${{ runner.temp }}/digests",
            run: [
                "set -euo pipefail",
                "args=()",
                `while IFS= read -r tag; do args+=(--tag "$tag"); done < <(jq -r '.tags[]' <<<"$DOCKER_METADATA_OUTPUT_JSON")`,
                `while IFS= read -r note; do args+=(--annotation "$note"); done < <(jq -r '.annotations[]' <<<"$DOCKER_METADATA_OUTPUT_JSON")`,
                `digests=(); for d in *; do digests+=("$IMAGE@sha256:$d"); done`,
                `docker buildx imagetools create "\${args[@]}" "\${digests[@]}"`,
            ].join("\n"),
        },
        {
            name: "Inspect the manifest list",
            env: { VERSION: "${{ steps.meta.outputs.version }}" },
            run: 'docker buildx imagetools inspect "$IMAGE:$VERSION"',
        },
    ];
    // ghcr.io takes the job's token, which needs packages: write; other registries take the org secrets.
    const writePackages: Record<string, string> = ghcr ? { packages: "write" } : {};
    return {
        name: o.name ?? "multi-arch image",
        on: {
            push: { branches: [...(o.branches ?? ["main"])] },
            pull_request: {},
            workflow_dispatch: {},
        },
        permissions: { contents: "read" },
        // A newer push to a pull request supersedes its build; builds that publish are never cancelled
        // between the per-arch pushes and the merge.
        concurrency: { group: "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": "${{ github.event_name == 'pull_request' }}" },
        env: { IMAGE: image },
        jobs: {
            build: {
                name: "build ${{ matrix.platform }}",
                "runs-on": `\${{ (${fleet}) && matrix.runner || 'ubuntu-latest' }}`,
                permissions: { contents: "read", ...writePackages },
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
                permissions: { contents: "read", ...writePackages },
                defaults: { run: { shell: "bash" } },
                steps: mergeSteps,
            },
        },
    };
}

const PROVENANCE_COMMENT: Record<"off" | "on", string> = {
    off: [
        " Provenance attestations are off: with them each per-arch push becomes an",
        " OCI image index holding the image and an attestation manifest (platform",
        " unknown/unknown), and so does the merged list; older Docker clients and",
        " some registries cannot pull that. Set workflow.provenance to min or max",
        " (max records the build's arguments: keep secrets out of them).",
    ].join("\n"),
    on: [
        " Provenance attestations are on (workflow.provenance): each per-arch push",
        " is an OCI image index with an attestation manifest, which imagetools",
        " create carries into the merged list; older Docker clients and some",
        " registries cannot pull such an index.",
    ].join("\n"),
};

/** The workflow as YAML text, with the comments that explain it. */
export function renderWorkflowYaml(o: BuildWorkflowOptions): string {
    const wf = buildWorkflow(o);
    const doc = new YAML.Document(wf);
    doc.commentBefore = [
        ` Written by runner-fleet: builds ${o.image} natively per arch on the fleet's`,
        " runners, in parallel, pushes each image by digest, then merges the digests",
        " into one manifest list in the same repository. Runs that carry work from",
        ` outside the ${o.org} organization (forks, pull requests from forks) are`,
        " routed to GitHub's hosted runners with QEMU instead, and nothing outside",
        " the organization's own repository logs in or publishes. The routing is",
        " about cost, not security: a fork can edit this file in its pull request.",
        " The runner group's repository access and the organization's approval of",
        " fork pull request workflows keep forks off the fleet.",
    ].join("\n");
    const steps = doc.getIn(["jobs", "build", "steps"], true) as YAML.YAMLSeq;
    steps.items.forEach(item => {
        const step = item as YAML.YAMLMap;
        const withMap = step.get("with", true) as YAML.YAMLMap | undefined;
        const pair = withMap?.items.find(p => YAML.isScalar(p.key) && p.key.value === "provenance");
        if (pair && YAML.isScalar(pair.key)) {
            pair.key.commentBefore = PROVENANCE_COMMENT[provenanceInput(o.provenance) === false ? "off" : "on"];
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
    /** Its Pulumi type token. */
    public static readonly TYPE = "runner-fleet:index:BuildWorkflow";

    /** The rendered workflow. */
    public readonly yaml: string;
    public readonly files: readonly github.RepositoryFile[];

    constructor(name: string, args: BuildWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfAny(workflowProblems(args), `BuildWorkflow "${name}"`);
        super(BuildWorkflow.TYPE, name, {}, opts);
        this.yaml = renderWorkflowYaml(args);
        this.files = (args.repositories ?? []).map((repo, i) => new github.RepositoryFile(`${name}-${repo}`, {
            repository: orgRepository(args.org, repo, `workflow.repositories[${i}]`, { parent: this, provider: args.provider }).name,
            file: args.path ?? DEFAULT_WORKFLOW_PATH,
            content: this.yaml,
            branch: args.branch,
            commitMessage: args.commitMessage ?? "Build the image natively per arch on runner-fleet",
            overwriteOnCreate: true,
        }, { parent: this, provider: args.provider }));
        this.registerOutputs({ yaml: this.yaml });
    }
}
