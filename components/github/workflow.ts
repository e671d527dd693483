// The build workflow component: renders the workflow and commits it into
// the organization's repositories with github.RepositoryFile where asked.

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { orgRepository } from "./github-org";
import { throwIfAny } from "../spec/problems";
import { BuildWorkflowOptions, DEFAULT_WORKFLOW_PATH, workflowProblems } from "./workflow-options";
import { renderWorkflowYaml } from "./workflow-yaml";

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
