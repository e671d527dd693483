// The build workflow component: renders the workflow and commits it into
// the organization's repositories where asked: directly, or through a pull
// request where the branch is protected (GitHub refuses a direct commit to a
// branch that requires pull requests, 409 from the contents API).

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { orgRepository } from "./github-org";
import { Problem, throwIfAny } from "../spec/problems";
import { BuildPlatform, BuildWorkflowOptions, DEFAULT_WORKFLOW_PATH, WorkflowSettings, workflowProblems } from "./workflow-options";
import { renderWorkflowYaml } from "./workflow-yaml";

export interface BuildWorkflowArgs extends WorkflowSettings {
    /**
     * One per arch to build: its runners' labels, kind and mirror (RunnerFleet fills them from its hosts).
     * Values: the workflow is rendered before anything is registered. Each an input only so that every
     * language's SDK can express the list (Go's code generator has no plain list of objects).
     */
    readonly platforms: pulumi.Input<BuildPlatform>[];
    /** Repositories (names in the org) to commit the workflow into; none: render only. */
    readonly repositories?: string[];
    /** Branch to commit to. Default the repository's default branch. */
    readonly branch?: string;
    /** Path of the file. Default .github/workflows/multi-arch-image.yml. */
    readonly path?: string;
    /** The commit message. Default "Build the image natively per arch on runner-fleet". */
    readonly commitMessage?: string;
    /**
     * Propose the file in a pull request (from the branch `runner-fleet/<file name>`) instead of committing
     * it to the branch. Default: where the branch is protected (by branch protection or a ruleset). false
     * with a protected branch fails before anything is created.
     */
    readonly pullRequest?: boolean;
    /**
     * Replace a file already at the path when the workflow is first committed. Default false: the first
     * `up` fails on a file the fleet did not create (the provider's "refusing to overwrite existing file").
     * A pull request never needs it: it proposes the change for review.
     */
    readonly overwriteExisting?: boolean;
}

/** Where the workflow went in one repository. */
export interface WorkflowCommit {
    /** The repository, in the organization. */
    readonly repository: string;
    /** The branch the workflow is for (the repository's default branch unless `branch` is set). */
    readonly branch: string;
    /** Whether it went through a pull request (the branch is protected, or `pullRequest: true`). */
    readonly viaPullRequest: boolean;
    /** The pull request's number, where there is one. */
    readonly pullRequest?: number;
}

/** GitHub's instructions in a commit message that skip push and pull_request runs (docs.github.com, "Skipping workflow runs"). */
const SKIP_RUNS = /\[(skip ci|ci skip|no ci|skip actions|actions skip)\]|\n\nskip-checks: ?true/i;

/**
 * The message of a direct commit: it carries [skip ci], so committing the workflow does not itself start a
 * publishing run (a push to the branch would), unless the message already skips runs. A pull request's
 * commit keeps the message as given: its pull_request run builds (and publishes nothing), which is what a
 * reviewer wants to see.
 */
export function directCommitMessage(message: string): string {
    return SKIP_RUNS.test(message) ? message : `${message} [skip ci]`;
}

/** The branch a pull request proposes the workflow from: one per workflow file. */
export function proposalBranch(file: string): string {
    return `runner-fleet/${file.split("/").pop()!.replace(/\.ya?ml$/, "")}`;
}

export class BuildWorkflow extends pulumi.ComponentResource {
    /** Its Pulumi type token. */
    public static readonly TYPE = "runner-fleet:index:BuildWorkflow";

    /** The rendered workflow. */
    public readonly yaml: string;
    /** Per repository named, in their order: where the workflow went. */
    public readonly commits: pulumi.Output<WorkflowCommit[]>;

    constructor(name: string, args: BuildWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
        const isValue = (p: pulumi.Input<BuildPlatform>): p is BuildPlatform => !pulumi.Output.isInstance(p) && !(p instanceof Promise);
        const platforms = args.platforms.filter(isValue);
        const unresolved: Problem[] = args.platforms.flatMap((p, i) => isValue(p) ? [] : [{
            path: `platforms[${i}]`, message: "is an output or a promise, and the workflow is rendered before anything is registered", fix: "pass the platform's values",
        }]);
        const options: BuildWorkflowOptions = { ...args, platforms };
        throwIfAny(unresolved.length > 0 ? unresolved : workflowProblems(options), `BuildWorkflow "${name}"`);
        super(BuildWorkflow.TYPE, name, {}, opts);
        this.yaml = renderWorkflowYaml(options);
        const file = args.path ?? DEFAULT_WORKFLOW_PATH;
        const message = args.commitMessage ?? "Build the image natively per arch on runner-fleet";
        // The GitHub provider is the component's (its `providers` option), which its children and reads inherit.
        const invokeOpts = { parent: this };
        // What the fleet wrote into a repository stays there on destroy, or when a commit turns into a pull
        // request: the repository's history is its owners', and a delete is one more commit (refused on a
        // protected branch). README, "The build workflow".
        const childOpts: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: true };
        this.commits = pulumi.all((args.repositories ?? []).map((repo, i) => {
            const setting = `workflow.repositories[${i}]`;
            const found = orgRepository(args.org, repo, setting, invokeOpts);
            const protectedBranches = github.getRepositoryBranchesOutput({ repository: found.name, onlyProtectedBranches: true }, invokeOpts);
            // The way in depends on GitHub's answer (is the branch protected?), so the resources are declared
            // once it is known: at preview too, since both lookups are reads.
            return pulumi.all([found, protectedBranches]).apply(([r, p]): pulumi.Output<WorkflowCommit> => {
                const branch = args.branch ?? r.defaultBranch;
                const isProtected = p.branches.some(b => b.name === branch);
                if (args.pullRequest === false && isProtected) {
                    throw new Error(`runner-fleet: workflow.pullRequest: false, and the branch ${branch} of ${args.org}/${r.name} is protected ` +
                        "(GitHub refuses a direct commit to it); set workflow.pullRequest: true (or leave it unset) for a pull request");
                }
                if (!(args.pullRequest ?? isProtected)) {
                    new github.RepositoryFile(`${name}-${repo}`, {
                        repository: r.name,
                        file,
                        content: this.yaml,
                        branch,
                        commitMessage: directCommitMessage(message),
                        overwriteOnCreate: args.overwriteExisting ?? false,
                    }, childOpts);
                    return pulumi.output({ repository: r.name, branch, viaPullRequest: false });
                }
                // The proposal's branch, made from the target (the provider's own resource: RepositoryFile's
                // autocreate_branch is deprecated in its favour).
                const head = new github.Branch(`${name}-${repo}-branch`, {
                    repository: r.name,
                    branch: proposalBranch(file),
                    sourceBranch: branch,
                }, childOpts);
                const proposed = new github.RepositoryFile(`${name}-${repo}-proposed`, {
                    repository: r.name,
                    file,
                    content: this.yaml,
                    branch: head.branch,
                    commitMessage: message,
                    // On a branch of its own, for review: the pull request shows what it replaces.
                    overwriteOnCreate: true,
                }, childOpts);
                const pr = new github.RepositoryPullRequest(`${name}-${repo}-pull-request`, {
                    baseRepository: r.name,
                    baseRef: branch,
                    headRef: head.branch,
                    title: message.split("\n")[0],
                    body: `runner-fleet proposes \`${file}\`: ${branch} is protected, so \`pulumi up\` does not commit to it. ` +
                        "Merge this to build the image natively per arch on the fleet's runners.",
                    maintainerCanModify: true,
                }, { ...childOpts, dependsOn: [proposed] });
                return pr.number.apply(n => ({ repository: r.name, branch, viaPullRequest: true, pullRequest: n }));
            });
        }));
        this.registerOutputs({ yaml: this.yaml, commits: this.commits });
    }
}
