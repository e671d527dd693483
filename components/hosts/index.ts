// Where hosts come from: one file per host source, each declaring everything
// the rest of the package needs of it and registering itself when loaded
// (spec/host-sources.ts). Loading this folder registers the built-in ones.

export { connectHost, connectMachine, defineHostSource, hostOutputRecord, hostSourceComponent, sshConnection, waitForSsh } from "./host";
export type { ConnectionArgs, HostBasics, HostComponent, HostCreation, HostOutputs, HostSourceComponent, ProvisionedMachine, RunnerHost, SshArgs } from "./host";
export { EquinixMetalHost, EQUINIX_OS, equinixMetal } from "./equinix-metal";
export type { EquinixMetalHostArgs } from "./equinix-metal";
export { HetznerCloudHost, HETZNER_IMAGE, hetznerCloud, sshOnlyRules } from "./hetzner-cloud";
export type { HetznerCloudHostArgs } from "./hetzner-cloud";
export { ExistingHost, existing } from "./existing";
export type { ExistingHostArgs } from "./existing";
