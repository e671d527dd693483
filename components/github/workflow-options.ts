// The build workflow's settings: what to build, from where, with which
// cache and attestations, and every problem of them under its own name.
// Pure; the model (workflow-model.ts) and the component read these.

import { Arch } from "../spec/catalog";
import { labelProblem } from "../spec/labels";
import { Problem } from "../spec/problems";
import {
    branchProblem, commitMessageProblem, imageNameProblem, imageTagProblem, repoPathProblem, repositoryNameProblem, workflowPathProblem,
} from "../spec/settings";

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
export function provenanceInput(p: BuildWorkflowOptions["provenance"]): string | false {
    return p === undefined || p === false ? false : `mode=${p === true ? "min" : p}`;
}
