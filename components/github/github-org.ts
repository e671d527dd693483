// GitHub organization wiring: the secrets and variables workflows need to
// use the fleet, and, for github-runner hosts, the runner group they register
// in. Self-hosted runners that public repositories can use let any fork's pull
// request run code on the host, so the group refuses public repositories
// unless the config opts in.

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { Problem, throwIfAny } from "../spec/problems";
import { DEFAULTS, GithubPlan, VISIBILITIES, Visibility, lineProblem, repositoryNameProblem, workflowRefProblem } from "../spec/settings";

export interface RunnerGroupArgs {
    /** The runner group's name. */
    readonly name: string;
    /** Let public repositories use the group's runners. Default false: a fork's pull request could otherwise run code on the hosts. */
    readonly allowPublicRepositories?: boolean;
    /** Only these workflows may use the runners, as `owner/repo/.github/workflows/file.yml@ref`: GitHub Enterprise only. */
    readonly workflows?: string[];
}

export interface GithubOrgWiringArgs {
    /** The GitHub organization. */
    readonly org: string;
    /**
     * Which repositories see the secrets, the variables and the runner group. Default `private` (private
     * and internal repositories). A runner group has no `private` at GitHub: it gets `all` with public
     * repositories refused, which is the same set.
     */
    readonly visibility?: Visibility;
    /** The organization's plan. Default `team`. */
    readonly plan?: GithubPlan;
    /** With visibility `selected`: repository names in the organization. */
    readonly repositories?: string[];
    /** Organization secrets by name; values are kept secret. */
    readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Organization variables by name (not secret). */
    readonly variables?: Readonly<Record<string, pulumi.Input<string>>>;
    /** The runner group for github-runner hosts; none when the fleet has none. */
    readonly runnerGroup?: RunnerGroupArgs;
}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every problem of the wiring's args, under their own names (the fleet puts `github.` in front). */
export function githubOrgProblems(a: GithubOrgWiringArgs): Problem[] {
    const problems: Problem[] = [];
    const add = (path: string, message: string, fix: string) => problems.push({ path, message, fix });
    const visibility = a.visibility ?? DEFAULTS.visibility;
    if (!VISIBILITIES.includes(visibility)) {
        add("visibility", `"${visibility}" is not a visibility`, `use one of: ${VISIBILITIES.join(", ")}`);
    }
    const repos = a.repositories ?? [];
    if (visibility === "selected" && repos.length === 0) {
        add("repositories", "visibility is selected and no repository is named", "list the repositories (names in the organization) that may use the fleet");
    }
    if (visibility !== "selected" && repos.length > 0) {
        add("repositories", `applies with visibility selected only, not ${visibility}`, "set github.visibility: selected, or remove github.repositories");
    }
    repos.forEach((r, i) => {
        const why = repositoryNameProblem(r);
        if (why) {
            add(`repositories[${i}]`, why, "write the name without the owner, such as app");
        }
    });
    for (const kind of ["secrets", "variables"] as const) {
        for (const name of Object.keys(a[kind] ?? {})) {
            if (!SECRET_NAME.test(name) || name.toUpperCase().startsWith("GITHUB_")) {
                add(`${kind}.${name}`, "is not a name GitHub accepts", "use letters, digits and _, not starting with a digit or GITHUB_");
            }
        }
    }
    const plan = a.plan ?? DEFAULTS.plan;
    if ((a.runnerGroup?.workflows ?? []).length > 0 && plan !== "enterprise") {
        // github/docs, "Managing access to self-hosted runners using groups": workflow access policies
        // exist for Enterprise Cloud and Server only; on Free and Team there is no such policy to set.
        add("workflows", `restrict the runner group to workflows, which GitHub offers on Enterprise Cloud and Server only (plan is ${plan})`,
            "remove github.workflows, or set github.plan: enterprise if the organization is on GitHub Enterprise");
    }
    if (plan === "free" && visibility === "private" && (Object.keys(a.secrets ?? {}).length > 0 || Object.keys(a.variables ?? {}).length > 0)) {
        // docs.github.com, "Using secrets in GitHub Actions", Creating secrets for an organization: "Organization-level
        // secrets and variables are not accessible by private repositories for GitHub Free."
        add("visibility", "private gives the organization's secrets and variables to private repositories, which GitHub Free does not let use them (plan is free)",
            "use visibility all or selected for public repositories, or set github.plan to the organization's paid plan (team or enterprise)");
    }
    if (visibility === "private" && a.runnerGroup?.allowPublicRepositories) {
        add("allowPublicRepositories", "lets public repositories use the runner group, and visibility private keeps them out",
            "choose one: visibility all (or selected) with allowPublicRepositories, or visibility private without it");
    }
    (a.runnerGroup?.workflows ?? []).forEach((w, i) => {
        const why = workflowRefProblem(w);
        if (why) {
            add(`workflows[${i}]`, why, "write owner/repo/.github/workflows/file.yml@refs/heads/main");
        }
    });
    const groupWhy = a.runnerGroup ? lineProblem(a.runnerGroup.name) : undefined;
    if (groupWhy) {
        add("runnerGroup", groupWhy, "name the runner group, such as runner-fleet: one line, without control characters or white space around it");
    }
    return problems;
}

function resourceSuffix(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

export class GithubOrgWiring extends pulumi.ComponentResource {
    /** Its Pulumi type token. */
    public static readonly TYPE = "runner-fleet:index:GithubOrgWiring";

    /** The names of the organization secrets it manages. */
    public readonly secretNames: string[];
    /** The names of the organization variables it manages. */
    public readonly variableNames: string[];
    /** The id of the runner group github-runner hosts register into, when there is one. */
    public readonly runnerGroupId?: pulumi.Output<string>;

    // The resources themselves, for TypeScript programs. Not fields: the component package's schema would name
    // @pulumi/github's resources, and its Go SDK is not on the Go module proxy.
    /** The organization secrets it manages. */
    public get secrets(): github.ActionsOrganizationSecret[] { return WIRED.get(this)?.secrets ?? []; }
    /** The organization variables it manages. */
    public get variables(): github.ActionsOrganizationVariable[] { return WIRED.get(this)?.variables ?? []; }
    /** The runner group github-runner hosts register into, when there is one. */
    public get runnerGroup(): github.ActionsRunnerGroup | undefined { return WIRED.get(this)?.runnerGroup; }
    /** Repository ids for visibility `selected`, in the order named. */
    public readonly repositoryIds: pulumi.Output<number[]>;

    constructor(name: string, args: GithubOrgWiringArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfAny(githubOrgProblems(args), `GithubOrgWiring "${name}"`);
        super(GithubOrgWiring.TYPE, name, {}, opts);
        const visibility = args.visibility ?? DEFAULTS.visibility;
        const selected = visibility === "selected";
        // The GitHub provider is the component's (its `providers` option), which its children and reads inherit.
        const invokeOpts = { parent: this };
        const childOpts = { parent: this };
        this.repositoryIds = selected
            ? pulumi.all((args.repositories ?? []).map((r, i) => orgRepository(args.org, r, `github.repositories[${i}]`, invokeOpts).repoId))
            : pulumi.output([]);

        const secrets = Object.entries(args.secrets ?? {}).map(([secretName, value]) => {
            const suffix = resourceSuffix(secretName);
            const secret = new github.ActionsOrganizationSecret(`${name}-secret-${suffix}`, {
                secretName,
                value: pulumi.secret(value),
                visibility,
            }, childOpts);
            if (selected) {
                new github.ActionsOrganizationSecretRepositories(`${name}-secret-${suffix}-repos`, {
                    secretName: secret.secretName,
                    selectedRepositoryIds: this.repositoryIds,
                }, childOpts);
            }
            return secret;
        });

        const variables = Object.entries(args.variables ?? {}).map(([variableName, value]) =>
            new github.ActionsOrganizationVariable(`${name}-var-${resourceSuffix(variableName)}`, {
                variableName,
                value,
                visibility,
                selectedRepositoryIds: selected ? this.repositoryIds : undefined,
            }, childOpts));

        let runnerGroup: github.ActionsRunnerGroup | undefined;
        if (args.runnerGroup) {
            const workflows = args.runnerGroup.workflows ?? [];
            runnerGroup = new github.ActionsRunnerGroup(`${name}-runner-group`, {
                name: args.runnerGroup.name,
                // GitHub keeps no `private` for a runner group (the provider's docs: "A value of `private` is not
                // currently supported due to limitations in the GitHub API"); it stores `all`, and sending
                // `private` again was a change at every up. `all` without public repositories is that set.
                visibility: visibility === "private" ? "all" : visibility,
                selectedRepositoryIds: selected ? this.repositoryIds : undefined,
                allowsPublicRepositories: args.runnerGroup.allowPublicRepositories ?? false,
                restrictedToWorkflows: workflows.length > 0,
                selectedWorkflows: workflows.length > 0 ? [...workflows] : undefined,
            }, childOpts);
        }
        WIRED.set(this, { secrets, variables, runnerGroup });
        this.secretNames = Object.keys(args.secrets ?? {});
        this.variableNames = Object.keys(args.variables ?? {});
        this.runnerGroupId = runnerGroup?.id;
        this.registerOutputs({ repositoryIds: this.repositoryIds });
    }
}

const WIRED = new WeakMap<GithubOrgWiring, {
    readonly secrets: github.ActionsOrganizationSecret[];
    readonly variables: github.ActionsOrganizationVariable[];
    readonly runnerGroup?: github.ActionsRunnerGroup;
}>();

/**
 * A repository of the organization, by name. GitHub's data source answers a
 * repository it cannot find (misspelled, or out of the token's reach) with
 * empty fields instead of an error (integrations/terraform-provider-github,
 * data_source_github_repository.go: a 404 clears the id); this fails instead,
 * naming the setting and the repository.
 */
export function orgRepository(org: string, name: string, setting: string, opts: pulumi.InvokeOutputOptions): pulumi.Output<github.GetRepositoryResult> {
    return github.getRepositoryOutput({ fullName: `${org}/${name}` }, opts).apply(r => {
        if (!r.repoId) {
            throw new Error(`runner-fleet: ${setting}: GitHub has no repository ${org}/${name} that the token can read; ` +
                "check the name (without the owner) and that the token may read the repository");
        }
        return r;
    });
}
