// The multi-arch build workflow as a typed structure: one job per platform
// on the fleet's native runners, in parallel, each pushing its image by
// digest; then one job that creates the manifest list over the digests; and
// the conditions that route a run to the fleet and let it publish. Pure.

import { Arch } from "../spec/catalog";
import { BuildWorkflowOptions, dockerfileOf, provenanceInput } from "./workflow-options";

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

/**
 * The organization variable and secret the workflow logs in to its image's registry with (any registry
 * but ghcr.io): a login of its own, never the mirrors' Docker Hub pull login. The user is a variable, not
 * a secret: a secret is masked in logs, and the image's name holds it on Docker Hub.
 */
export const REGISTRY_LOGIN = { username: "IMAGE_REGISTRY_USERNAME", token: "IMAGE_REGISTRY_TOKEN" } as const;

/** Where pushes of the image log in: ghcr.io with the job's token, any other registry with the workflow's own login. */
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
            username: `\${{ vars.${REGISTRY_LOGIN.username} }}`,
            password: `\${{ secrets.${REGISTRY_LOGIN.token} }}`,
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

/**
 * Where BuildKit keeps its cache between runs: written only by runs that publish. GitHub's cache service
 * is the repository's, so its scope names the image as well as the arch: two image workflows in one
 * repository would otherwise evict each other's cache.
 */
function cacheInputs(o: BuildWorkflowOptions, publishing: boolean): Record<string, string> {
    const cache = o.cache ?? "gha";
    const scope = o.image.replace(/[^a-z0-9]+/g, "-");
    return cache === "gha"
        ? { "cache-from": `type=gha,scope=${scope}-\${{ matrix.arch }}`, ...(publishing ? { "cache-to": `type=gha,scope=${scope}-\${{ matrix.arch }},mode=max` } : {}) }
        : cache === "registry"
            ? { "cache-from": `type=registry,ref=${o.image}:buildcache-\${{ matrix.arch }}`, ...(publishing ? { "cache-to": `type=registry,ref=${o.image}:buildcache-\${{ matrix.arch }},mode=max` } : {}) }
            : {};
}

/** docker/metadata-action's step: the tags, labels and annotations of the image. */
function metadataStep(o: BuildWorkflowOptions, extra: Record<string, Scalar> = {}): WorkflowStep {
    return {
        name: "Image metadata (tags, labels, annotations)", id: "meta", uses: ACTIONS.metadata,
        with: { images: o.image, tags: tagRules(o.tags), ...extra },
    };
}

/**
 * Where a run goes that the fleet does not take (forks' work): GitHub's hosted Arm64 runner for arm64 in a
 * public repository (ubuntu-24.04-arm, free for public repositories: github.blog changelog 2025-01-16,
 * "Linux arm64 hosted runners now available for free in public repositories"), else ubuntu-latest, with
 * QEMU for any arch but amd64.
 */
const HOSTED_ARM = "ubuntu-24.04-arm";
const NATIVE_HOSTED = "matrix.arch == 'arm64' && !github.event.repository.private";

/** The per-arch jobs' runs-on: the fleet's labels where the run is the organization's own, else a hosted runner (none on Enterprise Server). */
function runsOn(o: BuildWorkflowOptions): string {
    return hostedRunners(o)
        ? `\${{ (${fleetRouting(o.org)}) && matrix.runner || (${NATIVE_HOSTED}) && '${HOSTED_ARM}' || 'ubuntu-latest' }}`
        : "${{ matrix.runner }}";
}

/** Whether GitHub-hosted runners exist where the workflow runs: not on Enterprise Server. */
export function hostedRunners(o: Pick<BuildWorkflowOptions, "hostedRunners">): boolean {
    return o.hostedRunners ?? true;
}

/**
 * The per-arch job's steps, on the fleet's runner (or hosted, natively or with QEMU): build, and, in the
 * publishing job, push by digest. The two jobs are one model: only `publishing` tells them apart.
 */
function buildSteps(o: BuildWorkflowOptions, publishing: boolean): WorkflowStep[] {
    // A condition for runs on the fleet. On Enterprise Server every run that gets here is on the fleet
    // (forks' runs build nothing), so the condition is the step's own.
    const onFleet = (cond: string) => hostedRunners(o) ? `(${fleetRouting(o.org)}) && ${cond}` : cond;
    const image = o.image;
    const mirrorSteps: WorkflowStep[] = [
        {
            // actuated microVMs: point Docker and a buildx builder at the host's mirror on the VM bridge.
            name: "Use the host's Docker Hub mirror",
            if: onFleet("matrix.actuated"),
            uses: ACTIONS.hubMirror,
        },
    ];
    const qemu: WorkflowStep[] = hostedRunners(o) ? [{
        name: "Set up QEMU (hosted fallback for a non-native arch)",
        if: `!(${fleetRouting(o.org)}) && matrix.arch != 'amd64' && !(${NATIVE_HOSTED})`,
        uses: ACTIONS.qemu,
    }] : [];
    const push: WorkflowStep[] = publishing ? [
        {
            name: "Export the digest",
            env: { DIGEST: "${{ steps.build.outputs.digest }}", DIGESTS: "${{ runner.temp }}/digests" },
            run: 'mkdir -p "$DIGESTS"\ntouch "$DIGESTS/${DIGEST#sha256:}"',
        },
        {
            name: "Upload the digest",
            uses: ACTIONS.upload,
            // overwrite: "Re-run failed jobs" uploads this arch's digest again in the same run, which
            // upload-artifact v4+ refuses without it (artifacts are immutable per run and name).
            with: { name: "digests-${{ matrix.arch }}", path: "${{ runner.temp }}/digests/*", "if-no-files-found": "error", "retention-days": 1, overwrite: true },
        },
    ] : [];
    return [
        { name: "Check out", uses: ACTIONS.checkout },
        ...mirrorSteps,
        ...qemu,
        {
            // hub-mirror already made a builder on actuated runners; another one here would replace it.
            name: "Set up Buildx",
            if: `!(${onFleet("matrix.actuated")})`,
            uses: ACTIONS.buildx,
            with: {
                "buildkitd-config-inline": `\${{ ${onFleet("matrix.buildkitd")} || '' }}`,
            },
        },
        metadataStep(o),
        ...(publishing ? [loginFor(image)] : []),
        {
            name: publishing ? "Build, and push by digest" : "Build (nothing is pushed)",
            id: "build",
            uses: ACTIONS.buildPush,
            with: {
                context: o.context ?? ".",
                file: dockerfileOf(o),
                platforms: "${{ matrix.platform }}",
                labels: "${{ steps.meta.outputs.labels }}",
                annotations: "${{ steps.meta.outputs.annotations }}",
                provenance: provenanceInput(o.provenance),
                ...cacheInputs(o, publishing),
                outputs: `type=image,name=${image},push-by-digest=true,name-canonical=true,push=${publishing}`,
            },
        },
        ...push,
    ];
}

/** The merge job's steps: the manifest list over the per-arch digests, tagged and annotated. */
function mergeSteps(o: BuildWorkflowOptions): WorkflowStep[] {
    return [
        {
            name: "Download the digests",
            uses: ACTIONS.download,
            with: { path: "${{ runner.temp }}/digests", pattern: "digests-*", "merge-multiple": true },
        },
        { name: "Set up Buildx", uses: ACTIONS.buildx },
        // imagetools create takes index-level annotations only (buildx util/imagetools/create.go).
        { ...metadataStep(o), env: { DOCKER_METADATA_ANNOTATIONS_LEVELS: "index" } },
        loginFor(o.image),
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
}

/**
 * Builds the typed workflow. Pure. Two per-arch jobs over one matrix: `build` for runs that publish nothing
 * (pull requests, forks), whose token can write nothing, and `publish` for pushes to the branches and manual
 * runs in the organization's own repository, which alone get packages: write (ghcr.io) and the registry login.
 */
export function buildWorkflow(o: BuildWorkflowOptions): Workflow {
    const publish = publishCondition(o.org);
    const image = o.image;
    // ghcr.io takes the job's token, which needs packages: write; other registries take the workflow's own login.
    const writePackages: Record<string, string> = image.split("/")[0] === "ghcr.io" ? { packages: "write" } : {};
    const matrix = {
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
    };
    // Enterprise Server has no hosted runners: the fleet takes every run, and a fork's run builds nothing.
    const onlyOwn = hostedRunners(o) ? "" : ` && (${fleetRouting(o.org)})`;
    // The merge job needs Docker's CLI only: a hosted runner, or on Enterprise Server the fleet's first arch (amd64 first).
    const mergeOn = hostedRunners(o) ? "ubuntu-latest" : [...((o.platforms.find(p => p.arch === "amd64") ?? o.platforms[0])?.labels ?? [])];
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
                if: `!(${publish})${onlyOwn}`,
                "runs-on": runsOn(o),
                permissions: { contents: "read" },
                strategy: matrix,
                steps: buildSteps(o, false),
            },
            publish: {
                name: "publish ${{ matrix.platform }}",
                if: publish,
                "runs-on": runsOn(o),
                permissions: { contents: "read", ...writePackages },
                strategy: matrix,
                steps: buildSteps(o, true),
            },
            merge: {
                name: "manifest list",
                "runs-on": mergeOn,
                needs: ["publish"],
                if: publish,
                permissions: { contents: "read", ...writePackages },
                defaults: { run: { shell: "bash" } },
                steps: mergeSteps(o),
            },
        },
    };
}
