// The package's layout as the README's "Layout" section draws it, read from
// the sources' own imports (static `from`, `import()` and `require()` of a
// relative path): every folder of components/ has an index.ts; the library
// never imports the tooling (scripts/) or the tests; folders depend only on
// the folders below them; no file imports itself through others. Prints the
// figures the README quotes (files, lines, longest import chain).

import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./harness";

/** Which folders of components/ each folder may import: the layering, bottom first. */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
    "spec": [],
    "remote": ["spec"],
    "hosts": ["spec", "remote"],
    "github": ["spec"],
    "on-host": ["spec", "remote", "hosts"],
    "fleet": ["spec", "remote", "hosts", "on-host", "github"],
    "testing": ["remote"],
};

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? sources(p) : p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
    });
}

/** The files a source imports by relative path, resolved as TypeScript does (file.ts, then folder/index.ts). */
export function importsOf(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)"(\.{1,2}\/[^"]*)"/g)].map(m => m[1]);
    return specs.map(spec => {
        const base = path.resolve(path.dirname(file), spec);
        const found = [`${base}.ts`, path.join(base, "index.ts")].find(c => fs.existsSync(c));
        if (!found) {
            throw new Error(`${path.relative(REPO_ROOT, file)} imports ${spec}, which is no source file`);
        }
        return found;
    });
}

const rel = (f: string) => path.relative(REPO_ROOT, f);
const folderOf = (f: string) => {
    const parts = rel(f).split(path.sep);
    return parts[0] === "components" && parts.length > 2 ? parts[1] : undefined;
};

/** Every import circle among the files, each as the chain of files that closes it. */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
        state.set(f, "open");
        stack.push(f);
        for (const t of graph.get(f) ?? []) {
            if (state.get(t) === "open") {
                found.push([...stack.slice(stack.indexOf(t)), t].map(rel));
            } else if (!state.has(t)) {
                visit(t);
            }
        }
        stack.pop();
        state.set(f, "done");
    };
    [...graph.keys()].forEach(f => state.has(f) || visit(f));
    return found;
}

function longestChain(graph: ReadonlyMap<string, readonly string[]>, from: string, memo = new Map<string, string[]>()): string[] {
    const known = memo.get(from);
    if (known) {
        return known;
    }
    let best: string[] = [];
    for (const t of graph.get(from) ?? []) {
        const chain = longestChain(graph, t, memo);
        best = chain.length > best.length ? chain : best;
    }
    const chain = [from, ...best];
    memo.set(from, chain);
    return chain;
}

describe("the package layout (README: Layout)", () => {
    const library = [path.join(REPO_ROOT, "index.ts"), ...sources(path.join(REPO_ROOT, "components"))];
    const tooling = sources(path.join(REPO_ROOT, "scripts"));
    const graph = new Map([...library, ...tooling].map(f => [f, importsOf(f)]));

    it("has no import circle anywhere in the library or the tooling", () => {
        expect(circles(graph)).to.deep.equal([]);
    });

    it("keeps the library off the tooling and the tests", () => {
        const wrong = library.flatMap(f => (graph.get(f) ?? []).filter(t => !t.startsWith(path.join(REPO_ROOT, "components")))
            .map(t => `${rel(f)} -> ${rel(t)}`));
        expect(wrong).to.deep.equal([]);
    });

    it("runs its imports one way: each folder of components/ imports only the folders below it, through files, not the package entry", () => {
        const folders = fs.readdirSync(path.join(REPO_ROOT, "components"), { withFileTypes: true }).filter(e => e.isDirectory()).map(e => e.name);
        expect(folders.sort()).to.deep.equal(Object.keys(LAYERS).sort());
        for (const folder of folders) {
            expect(fs.existsSync(path.join(REPO_ROOT, "components", folder, "index.ts")), `components/${folder}/index.ts`).to.equal(true);
        }
        const wrong: string[] = [];
        for (const f of library.filter(x => folderOf(x) !== undefined)) {
            const from = folderOf(f) as string;
            for (const t of graph.get(f) ?? []) {
                const to = folderOf(t);
                if (to === undefined || (to !== from && !LAYERS[from].includes(to))) {
                    wrong.push(`${rel(f)} -> ${rel(t)}`);
                }
            }
        }
        expect(wrong).to.deep.equal([]);
    });

    it("finds a circle and a wrong-way import when there is one (the checks above can fail)", () => {
        const a = "/x/components/spec/a.ts", b = "/x/components/spec/b.ts";
        expect(circles(new Map([[a, [b]], [b, [a]]]))).to.have.length(1);
        expect(LAYERS.hosts).to.not.include("github");
        expect(LAYERS.github).to.not.include("hosts");
    });

    it("publishes every entry point package.json names: built, and in the tarball's files", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
        const entries = new Set<string>();
        const collect = (v: unknown): void => {
            if (typeof v === "string") {
                entries.add(v.replace(/^\.\//, ""));
            } else if (Array.isArray(v)) {
                v.forEach(collect);
            } else if (v && typeof v === "object") {
                Object.values(v).forEach(collect);
            }
        };
        [pkg.main, pkg.types, pkg.bin, pkg.exports, pkg.typesVersions].forEach(collect);
        entries.delete("package.json");
        const globs = (pkg.files as string[]).map(glob => new RegExp(`^${glob.split("/").map(part =>
            part === "**" ? "(?:[^/]+/)*" : `${part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}/`).join("").replace(/\/$/, "")}$`));
        const packed = (f: string) => f === "package.json" || globs.some(g => g.test(f));
        // A subpath pattern (`./operator/*`) stands for every file it matches; it must match one at least.
        const files = [...entries].flatMap(f => {
            if (!f.includes("*")) {
                return [f];
            }
            const dir = path.dirname(f);
            const re = new RegExp(`^${path.basename(f).replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".+")}$`);
            const matched = fs.readdirSync(path.join(REPO_ROOT, dir)).filter(n => re.test(n)).map(n => `${dir}/${n}`);
            return matched.length ? matched : [f];
        });
        const wrong = files.filter(f => !fs.existsSync(path.join(REPO_ROOT, f)) || !packed(f));
        expect(entries.size).to.be.greaterThan(4);
        expect(wrong, "entry points that are not built or not packed").to.deep.equal([]);
        expect(packed("bin/components/spec/settings.js")).to.equal(true);
        expect(packed("bin/test/layout.test.js")).to.equal(false);
    });

    it("prints the layout's figures", () => {
        const lines = library.reduce((n, f) => n + fs.readFileSync(f, "utf8").split("\n").length, 0);
        const chain = longestChain(graph, path.join(REPO_ROOT, "index.ts"));
        const perFolder = Object.keys(LAYERS).map(k => `${k} ${library.filter(f => folderOf(f) === k).length}`).join(", ");
        console.log(`      library: ${library.length} files, ${lines} lines; files per folder: ${perFolder}; longest import chain ${chain.length} files: ${chain.map(rel).join(" -> ")}`);
        expect(chain.length).to.be.greaterThan(1);
    });
});
