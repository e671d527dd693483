// runner-fleet: the package entry. Everything a platform repo composes.

export * from "./catalog";
export * from "./config";
export { HOST_SCRIPT_DIR, renderRemoteCommand, scriptHash, shellQuote } from "./remote-script";
export * from "./hosts/host";
export * from "./hosts/equinix-metal";
export * from "./hosts/hetzner-cloud";
export * from "./hosts/existing";
export * from "./fleet";
