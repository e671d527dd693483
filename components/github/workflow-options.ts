// The build workflow's settings: what to build, from where, with which
// cache and attestations, and every problem of them under its own name.
// Pure; the model (workflow-model.ts) and the component read these.

import { Arch } from "../spec/catalog";
import { labelProblem } from "../spec/labels";
import { Problem } from "../spec/problems";
import {
    BuildCache, branchProblem, commitMessageProblem, imageNameProblem, imageTagProblem, repoPathProblem, repositoryNameProblem, workflowPathProblem,
} from "../spec/settings";

export interface BuildPlatform {
    /** The arch this platform builds. */
    readonly arch: Arch;
    /** The fleet's labels for this arch: what runs-on names. */
    readonly labels: string[];
    /** The arch's runners are actuated microVMs. */
    readonly actuated: boolean;
    /** github-runner hosts: the mirror address, when BuildKit's container can reach it (not loopback). */
    readonly mirror?: string;
}

/** Provenance attestations: none, or build-push-action's mode=min / mode=max. */
export type Provenance = false | "min" | "max";
export { BuildCache } from "../spec/settings";

/** The build workflow's settings but its platforms: what the component takes and the model renders alike. */
export interface WorkflowSettings {
    /** The organization that owns the fleet: runs anywhere else fall back to hosted runners and never publish. */
    readonly org: string;
    /** The image, such as docker.io/my-org/app or ghcr.io/my-org/app. Per-arch images and the manifest list share this path. */
    readonly image: string;
    /** Workflow name. Default "multi-arch image". */
    readonly name?: string;
    /** Branches whose pushes build and publish. Default [main]. */
    readonly branches?: string[];
    /** Build context. Default ".". */
    readonly context?: string;
    /** The Dockerfile, from the repository's root (build-push-action's `file`). Default `<context>/Dockerfile`. */
    readonly dockerfile?: string;
    /** Tags of the manifest list. Default the branch name and the commit SHA (docker/metadata-action). */
    readonly tags?: string[];
    /**
     * Provenance attestations: `false` (default), `min` or `max` (build-push-action's mode); `true` is `min`.
     * See the comment in the rendered file. A boolean or a mode, which a component schema has no type for:
     * typed any, and checked with the other args before anything is created.
     */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly provenance?: any;
    /** BuildKit's cache between runs. Default gha. */
    readonly cache?: BuildCache;
    /**
     * Whether GitHub's hosted runners exist: true on github.com (forks' runs go there), false on GitHub
     * Enterprise Server, which has none (every job runs on the fleet; forks' runs build nothing). Default true.
     */
    readonly hostedRunners?: boolean;
}

export interface BuildWorkflowOptions extends WorkflowSettings {
    /** One per arch to build: its runners' labels, kind and mirror. */
    readonly platforms: BuildPlatform[];
}

export const DEFAULT_WORKFLOW_PATH = ".github/workflows/multi-arch-image.yml";

/** Every problem of the workflow's settings, under their own names (the fleet puts `workflow.` in front). */
export function workflowProblems(o: BuildWorkflowOptions & {
    readonly repositories?: readonly string[]; readonly path?: string; readonly branch?: string; readonly commitMessage?: string;
}): Problem[] {
    const problems: Problem[] = [];
    /** A problem at path when the check found one (a check of an unset optional value finds none). */
    const check = (path: string, why: string | undefined, fix: string) => {
        if (why) {
            problems.push({ path, message: why, fix });
        }
    };
    const optional = <T>(value: T | undefined, test: (v: T) => string | undefined) => value === undefined ? undefined : test(value);
    check("image", imageNameProblem(o.image), "write it as registry/owner/name in lower case, such as docker.io/my-org/app");
    check("", o.platforms.length === 0 ? "the fleet has no arch to build on" : undefined, "add hosts to the fleet");
    o.platforms.forEach(p => p.labels.forEach(l => {
        const why = labelProblem(l);
        check(`platforms.${p.arch}`, why && `the label ${why}`, "fix the fleet's labels");
    }));
    check("provenance", o.provenance !== undefined && ![false, true, "min", "max"].includes(o.provenance as never)
        ? `"${String(o.provenance)}" is not a provenance mode` : undefined, "write false, min or max");
    check("cache", o.cache !== undefined && !["gha", "registry", "none"].includes(o.cache)
        ? `"${String(o.cache)}" is not a cache backend` : undefined, "write gha, registry or none");
    check("context", optional(o.context, repoPathProblem), "write a relative path such as . or app");
    check("dockerfile", optional(o.dockerfile, repoPathProblem), "write a path from the repository's root, such as app/Dockerfile");
    (o.tags ?? []).forEach(tag => check("tags", imageTagProblem(tag), "use letters, digits, '_', '.' and '-' (at most 128), or one ${{ }} expression"));
    (o.branches ?? []).forEach((b, i) => check(`branches[${i}]`, branchProblem(b, true), "write branch names or filter patterns such as main or release/**"));
    (o.repositories ?? []).forEach((r, i) => check(`repositories[${i}]`, repositoryNameProblem(r), "name a repository of the organization, without the owner"));
    check("branch", optional(o.branch, b => branchProblem(b)), "write a branch name such as main");
    check("commitMessage", optional(o.commitMessage, commitMessageProblem), "write a message without control characters (line breaks and tabs are fine)");
    check("path", workflowPathProblem(o.path ?? DEFAULT_WORKFLOW_PATH), "use .github/workflows/<name>.yml");
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
export function provenanceInput(p: Provenance | true | undefined): string | false {
    return p === undefined || p === false ? false : `mode=${p === true ? "min" : p}`;
}
