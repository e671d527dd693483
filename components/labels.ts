// What GitHub accepts as a runner label. Pure; the settings and the
// components check labels with it.

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
