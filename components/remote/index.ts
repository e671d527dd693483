// How the package's own shell files reach a host (rendered commands, their
// hashes) and what the drift check reads back (the drift contract). Pure.

export { HOST_SCRIPT_DIR, renderRemoteCommand, renderTransientCommand, scriptHash } from "./remote-script";
export { readDriftTarget, driftExpectations, MirrorMode } from "./drift-contract";
export type { DriftTarget, DriftEntry } from "./drift-contract";
export { packageFile, packageRoot } from "./package-files";
