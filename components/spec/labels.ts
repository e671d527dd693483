// What GitHub accepts as a runner label, and which labels each kind of host
// carries. Pure; the settings, the components and the workflow use it.

import type { Arch } from "./catalog";

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HOSTED_LABEL = /^(ubuntu|windows|macos)-(latest|\d[\w.-]*)$/i;
const RESERVED_LABELS = new Set(["self-hosted"]);
const MAX_LABEL = 100;

/** The fix every label problem shares. */
export const LABEL_FIX = "use letters, digits, '.', '_' and '-', at most 100 characters";

/** Why GitHub would reject a runner label, or undefined when it is fine. */
export function labelProblem(label: string): string | undefined {
    if (label.length === 0) {
        return "is empty";
    }
    if (label.length > MAX_LABEL) {
        return `is ${label.length} characters long; runner labels are at most ${MAX_LABEL}`;
    }
    if (/[\s,]/.test(label)) {
        return `"${label}" contains a comma or white space, which splits it into several labels`;
    }
    if (!LABEL.test(label)) {
        return `"${label}" has characters other than letters, digits, ".", "_" and "-", or does not start with a letter or digit`;
    }
    if (RESERVED_LABELS.has(label.toLowerCase())) {
        return `"${label}" is a default label GitHub sets itself; the fleet registers without default labels so that a bare runs-on: self-hosted never lands here`;
    }
    if (HOSTED_LABEL.test(label)) {
        return `"${label}" is the name of a GitHub-hosted runner image; jobs asking for it would be ambiguous`;
    }
    return undefined;
}

// ---------------------------------------------------------------------------
// Which labels route a job where the user meant. actuated's control plane acts
// on any job whose runs-on has a label starting with "actuated": it reads the
// arch and the microVM's size from it (actuated-arm64-8cpu-16gb for Arm,
// actuated-4cpu-16gb for x86; the bare forms take the server's default size)
// and matches further labels against those an agent enrolled with
// (docs.actuated.com: examples/custom-vm-size, examples/gpu, faq, install-agent).
// So actuated hosts answer exactly that, and plain GitHub-runner hosts never
// carry a label starting with "actuated": a job asking for a microVM must
// never land on a shared host where the docker group is root.


export type RunnerKind = "actuated" | "github-runner";

/** The label actuated's control plane matches per arch: there is no actuated-amd64. */
export const ACTUATED_ARCH_LABEL: Readonly<Record<Arch, string>> = { arm64: "actuated-arm64", amd64: "actuated" };

/** A microVM size as actuated reads it from a label: vCPUs then RAM, such as 8cpu-16gb or 0.5cpu-2gb. */
export const VM_SIZE = /^(\d+|\d*\.\d+)cpu-\d+gb$/;

/** The label a job names to get a microVM of this arch (and size) on an actuated host. */
export function actuatedLabel(arch: Arch, vmSize?: string): string {
    return vmSize ? `${ACTUATED_ARCH_LABEL[arch]}-${vmSize}` : ACTUATED_ARCH_LABEL[arch];
}

/** The per-arch label of plain GitHub-runner hosts. */
export function plainLabel(prefix: string, arch: Arch): string {
    return `${prefix}-${arch}`;
}

/** What every host of a kind and arch carries besides its own labels, as the agent enrolls or registers it. */
export function agentLabels(kind: RunnerKind, arch: Arch, prefix: string, fleetLabels: readonly string[], hostLabels: readonly string[] = []): string[] {
    const first = kind === "actuated" ? ACTUATED_ARCH_LABEL[arch] : plainLabel(prefix, arch);
    return [...new Set([first, ...fleetLabels, ...hostLabels])];
}

/**
 * What a job names in runs-on to land on a host of this kind and arch: the
 * routing label (sized for actuated, when a size is set) and the fleet's
 * labels, which every such host carries.
 */
export function jobLabels(kind: RunnerKind, arch: Arch, prefix: string, fleetLabels: readonly string[], vmSize?: string): string[] {
    const first = kind === "actuated" ? actuatedLabel(arch, vmSize) : plainLabel(prefix, arch);
    return [...new Set([first, ...fleetLabels])];
}

/** Whether actuated's control plane reads a label as its own (it matches actuated* without regard to case). */
export function isActuatedLabel(label: string): boolean {
    return /^actuated/i.test(label);
}

/** Why a label may not be carried by a host of this kind and arch, or undefined. */
export function kindLabelProblem(label: string, kind: RunnerKind, arch?: Arch): string | undefined {
    const actuatedish = isActuatedLabel(label);
    if (kind === "github-runner" && actuatedish) {
        return `"${label}" starts with "actuated" on a plain GitHub-runner host: actuated's control plane starts a microVM for every job that asks for such a label, and this shared host, where the docker group is root, could take the job instead`;
    }
    if (kind === "actuated" && actuatedish && (arch === undefined || label !== ACTUATED_ARCH_LABEL[arch])) {
        return `"${label}" is read by actuated's control plane as an arch and size, and an actuated host enrolls with only its own: actuated-arm64 on Arm, actuated on x86 (there is no actuated-amd64); a job asks for a size in runs-on (actuated-arm64-8cpu-16gb), not the host`;
    }
    return undefined;
}
