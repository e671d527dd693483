// The package's own files that are not compiled: the host scripts, the
// operator scripts, package.json. Compiled code runs from bin/components/...,
// sources from components/... (tests, ts-node); both find the package root as
// the nearest folder above them whose package.json names runner-fleet, so no
// caller counts "..".

import { readFileSync } from "fs";
import * as path from "path";

let root: string | undefined;

/** The folder of runner-fleet's package.json, found once. */
export function packageRoot(): string {
    if (root === undefined) {
        for (let dir = __dirname; ; dir = path.dirname(dir)) {
            try {
                if (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).name === "runner-fleet") {
                    root = dir;
                    break;
                }
            } catch {
                // no package.json here, or not ours: look further up
            }
            if (path.dirname(dir) === dir) {
                throw new Error(`runner-fleet: no package.json of runner-fleet above ${__dirname}`);
            }
        }
    }
    return root;
}

/** A file of the package, such as scripts/host/ready.sh, by its path from the package root. */
export function packageFile(...parts: string[]): string {
    return path.join(packageRoot(), ...parts);
}

const texts = new Map<string, string>();

/** The text of a file of the package (a host or operator script), read once. */
export function packageText(...parts: string[]): string {
    const rel = parts.join("/");
    let text = texts.get(rel);
    if (text === undefined) {
        try {
            text = readFileSync(packageFile(...parts), "utf8");
        } catch {
            throw new Error(`runner-fleet: ${rel} is missing from the package`);
        }
        texts.set(rel, text);
    }
    return text;
}
