// runner-fleet: the package entry. Everything a platform repo composes.

export * from "./catalog";
export * from "./config";
export { HOST_SCRIPT_DIR, bundleFileHashes, renderRemoteCommand, scriptBundle, scriptHash, shellQuote } from "./remote-script";
export * from "./hosts/host";
export * from "./hosts/equinix-metal";
export * from "./hosts/hetzner-cloud";
export * from "./hosts/existing";
export * from "./agent";
export * from "./registry-mirror";
export { secretCommand, secretLines } from "./host-command";
export * from "./github-org";
export * from "./workflow";
export * from "./wiring";
export * from "./fleet";
export { fleetProgram, loadFleetConfig } from "./program";
