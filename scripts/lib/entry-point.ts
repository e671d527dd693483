// Which file `pulumi up` runs for a Node.js project: the same resolution the
// Pulumi Node.js language host makes, so the offline plan evaluates what the
// engine would, and a test can tell when Pulumi.yaml and package.json would
// make Pulumi load something other than the program.
//
// Followed from pulumi/pulumi sdk/nodejs/cmd/run/run.ts (v3.259.0):
// - the language host is handed Pulumi.yaml's `main` (relative to the project
//   folder), or "." when there is none;
// - with no `main`, it looks in the nearest package.json: `exports` (a string,
//   or "."'s string or its default/require/import), else `main`; a path that
//   does not exist is skipped with a warning and the folder is kept;
// - then it `require`s the result, so Node's module resolution applies: a
//   file as is or with an extension, a folder through its package.json `main`
//   and then `index` (with TypeScript on, `.ts` resolves as `.js` does).

import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

export interface EntryPoint {
    /** Absolute path of the file Pulumi would load. */
    readonly file: string;
    /** The same, relative to the project folder. */
    readonly relative: string;
    /** How it was found, for people: "Pulumi.yaml main", "package.json exports", ... */
    readonly via: string;
    /** Whether the project runs TypeScript directly (runtime.options.typescript, default true). */
    readonly typescript: boolean;
}

export class EntryPointError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "EntryPointError";
    }
}

interface ProjectFile {
    readonly main?: string;
    readonly runtime?: string | { readonly name?: string; readonly options?: { readonly typescript?: boolean } };
}

function readJson(file: string): Record<string, unknown> {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch {
        return {};
    }
}

function isFile(p: string): boolean {
    return fs.existsSync(p) && fs.statSync(p).isFile();
}

function isDir(p: string): boolean {
    return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

/** The nearest folder at or above `dir` that holds a package.json; `dir` when none does. */
function packageRoot(dir: string): string {
    for (let d = dir; ; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, "package.json"))) {
            return d;
        }
        if (path.dirname(d) === d) {
            return dir;
        }
    }
}

/** package.json's entry for the project, as the language host reads it when Pulumi.yaml has no main. */
function packageEntry(pkg: Record<string, unknown>): { entry?: string; via: string } {
    const exp = pkg.exports;
    if (typeof exp === "string") {
        return { entry: exp, via: "package.json exports" };
    }
    if (typeof exp === "object" && exp !== null) {
        const dot = (exp as Record<string, unknown>)["."];
        if (typeof dot === "string") {
            return { entry: dot, via: 'package.json exports["."]' };
        }
        if (typeof dot === "object" && dot !== null) {
            const d = dot as Record<string, unknown>;
            const pick = [d.default, d.require, d.import].find(v => typeof v === "string") as string | undefined;
            return { entry: pick, via: 'package.json exports["."]' };
        }
        return { via: "package.json exports" };
    }
    return typeof pkg.main === "string" && pkg.main !== "" ? { entry: pkg.main, via: "package.json main" } : { via: "" };
}

/** Node's require() resolution of a path, with `.ts` known when TypeScript is on. */
function requireResolve(p: string, typescript: boolean): string | undefined {
    const exts = typescript ? [".js", ".json", ".node", ".ts"] : [".js", ".json", ".node"];
    if (isFile(p)) {
        return p;
    }
    for (const e of exts) {
        if (isFile(p + e)) {
            return p + e;
        }
    }
    if (isDir(p)) {
        const main = readJson(path.join(p, "package.json")).main;
        if (typeof main === "string" && main !== "") {
            const viaMain = requireResolve(path.join(p, main), typescript);
            if (viaMain) {
                return viaMain;
            }
        }
        for (const e of exts) {
            if (isFile(path.join(p, `index${e}`))) {
                return path.join(p, `index${e}`);
            }
        }
    }
    return undefined;
}

/** The file `pulumi up` would run in the project folder `dir`. Throws EntryPointError when it would find none. */
export function pulumiEntryPoint(dir: string): EntryPoint {
    const projectFile = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) {
        throw new EntryPointError(`no Pulumi.yaml in ${dir}`);
    }
    const project = (YAML.parse(fs.readFileSync(projectFile, "utf8")) ?? {}) as ProjectFile;
    const runtimeName = typeof project.runtime === "string" ? project.runtime : project.runtime?.name;
    if (runtimeName !== "nodejs") {
        throw new EntryPointError(`${projectFile} names runtime ${JSON.stringify(runtimeName)}; only nodejs programs can be planned`);
    }
    const typescript = typeof project.runtime === "object" ? (project.runtime.options?.typescript ?? true) : true;
    let program = dir;
    let via = "the project folder";
    if (typeof project.main === "string" && project.main !== "" && project.main !== ".") {
        program = path.resolve(dir, project.main);
        via = "Pulumi.yaml main";
    } else {
        const root = packageRoot(dir);
        const found = packageEntry(readJson(path.join(root, "package.json")));
        if (found.entry !== undefined && fs.existsSync(path.join(root, found.entry))) {
            program = path.join(root, found.entry);
            via = found.via;
        }
    }
    const file = requireResolve(program, typescript);
    if (!file) {
        throw new EntryPointError(`pulumi up would find no program: ${path.relative(dir, program) || "."} (from ${via}) does not resolve to a file; set main in Pulumi.yaml to the program, such as main: index.ts`);
    }
    return { file, relative: path.relative(dir, file), via, typescript };
}
