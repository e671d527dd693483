// A Go program that uses runner-fleet's component package, as the README
// shows (pulumi package add generates the runnerfleet SDK): a fleet of one
// existing actuated host, and an ExistingHost and a RunnerAgent composed by
// hand, the host's outputs handed to the agent. The engine suite runs it
// against its test hosts and stand-ins; the stack config says where they are.
package main

import (
	"example.com/pulumi-runner-fleet/sdk/go/runnerfleet"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		base := cfg.Require("base")
		hostKey := cfg.Require("hostKey")
		key := cfg.RequireSecret("sshPrivateKey")
		// The fleet's organization and its host's name: the suite sets wrong ones to see them refused.
		org, metalName := "example-org", "metal"
		if v := cfg.Get("fleetOrg"); v != "" {
			org = v
		}
		if v := cfg.Get("metalName"); v != "" {
			metalName = v
		}
		endpoints := runnerfleet.EndpointsConfigArgs{
			ActuatedInstaller: pulumi.StringRef(base + "/actuated/install.sh"),
			RunnerDownloads:   pulumi.StringRef(base + "/actions-runner"),
			GithubUrl:         pulumi.StringRef(base),
			GithubApi:         pulumi.StringRef(base + "/api"),
			AllowInsecureHttp: pulumi.BoolRef(true),
		}
		arch := runnerfleet.ArchAmd64
		fleet, err := runnerfleet.NewRunnerFleet(ctx, "fleet", &runnerfleet.RunnerFleetArgs{
			Config: runnerfleet.RunnerFleetConfigArgs{
				Github:    &runnerfleet.GithubConfigArgs{Org: org, RunnerGroup: pulumi.StringRef("native"), Manage: pulumi.BoolRef(false)},
				Agent:     &runnerfleet.AgentConfigArgs{InstallDocker: pulumi.BoolRef(false)},
				Mirror:    &runnerfleet.MirrorConfigArgs{Enabled: pulumi.BoolRef(false)},
				Endpoints: &endpoints,
				Hosts: []runnerfleet.FleetHostConfigArgs{{
					Name: metalName, Provider: runnerfleet.HostProviderExisting, Address: pulumi.StringRef(cfg.Require("metalAddress")),
					Arch: &arch, Kvm: pulumi.BoolRef(true), HostKey: pulumi.StringRef(hostKey),
				}},
			},
			Secrets: map[string]pulumi.StringInput{
				"sshPrivateKey":   key,
				"actuatedLicense": cfg.RequireSecret("actuatedLicense"),
				"actuatedToken":   cfg.RequireSecret("actuatedToken"),
			},
		})
		if err != nil {
			return err
		}
		plain, err := runnerfleet.NewExistingHost(ctx, "plain", &runnerfleet.ExistingHostArgs{
			Address: cfg.Require("plainAddress"), Arch: &arch, Kvm: pulumi.BoolRef(false),
			PrivateKey: key, HostKey: pulumi.String(hostKey),
		})
		if err != nil {
			return err
		}
		agent, err := runnerfleet.NewRunnerAgent(ctx, "plainAgent", &runnerfleet.RunnerAgentArgs{
			// name, arch and kvm are plain (the install depends on them): as the host was declared.
			Host: runnerfleet.RunnerHostArgs{
				Name: "plain", Arch: arch, Kvm: false,
				PublicIp: plain.PublicIp, Connection: plain.Connection, Ready: plain.Ready, HostId: plain.HostId,
			},
			Kind:          runnerfleet.AgentKindGithubRunner,
			Labels:        []string{"runner-fleet-amd64", "go"},
			Org:           "example-org",
			RunnerGroup:   pulumi.StringRef("native"),
			InstallDocker: pulumi.BoolRef(false),
			Endpoints:     &endpoints,
			Secrets:       runnerfleet.AgentSecretsArgs{GithubRunnerToken: cfg.RequireSecret("githubRunnerToken")},
		})
		if err != nil {
			return err
		}
		ctx.Export("hosts", fleet.Hosts)
		ctx.Export("agentKind", agent.Kind)
		return nil
	})
}
