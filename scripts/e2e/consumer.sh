#!/usr/bin/env bash
# consumer.sh: the package as a platform repository gets it. Packs it, installs
# the tarball into a scratch project whose program is the README's library
# example, compiles that --strict, plans a stack with the installed
# `runner-fleet` command, runs a unit test written with runner-fleet/testing,
# and asks every subcommand for --help, on each Node given (default: the
# oldest and newest supported, 22 and 24, from npm's node package).
#
#   bash scripts/e2e/consumer.sh [NODE_MAJOR ...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
majors=("${@:-22 24}")
read -r -a majors <<<"${majors[*]}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
t0=$(date +%s)
say() { printf 'consumer: %s\n' "$*"; }

tarball="$(cd "${root}" && npm pack --silent --pack-destination "${work}" 2>/dev/null | tail -n 1)"
say "packed ${tarball}: $(du -k "${work}/${tarball}" | cut -f1) kB, $(tar -tzf "${work}/${tarball}" | wc -l) files"
# TypeScript sources only where the component package's schema is inferred from them (plugin/, components/).
if tar -tzf "${work}/${tarball}" | grep -E '\.map$|/test/|\.ts$' | grep -v '\.d\.ts$' | grep -vE '^package/(components|plugin)/[^ ]*\.ts$'; then
    say "the tarball ships source maps, tests or sources it should not"
    exit 1
fi

pulumi_range="$(node -p "require(process.argv[1]).dependencies['@pulumi/pulumi']" "${root}/package.json")"
typescript_range="$(node -p "require(process.argv[1]).devDependencies.typescript" "${root}/package.json")"
app="${work}/platform"
mkdir -p "${app}"
cd "${app}"
cat >package.json <<JSON
{
  "name": "platform",
  "private": true,
  "main": "index.ts",
  "dependencies": {
    "@pulumi/pulumi": "${pulumi_range}",
    "runner-fleet": "file:../${tarball}"
  },
  "devDependencies": {
    "@types/node": "^22.0.0",
    "typescript": "${typescript_range}"
  },
  "allowScripts": { "@pulumi/command": false, "@pulumi/equinix-metal": false, "protobufjs": false }
}
JSON
cat >tsconfig.json <<'JSON'
{ "compilerOptions": { "strict": true, "target": "ES2022", "module": "commonjs", "moduleResolution": "node", "esModuleInterop": true, "outDir": "out", "types": ["node"] }, "include": ["*.ts"] }
JSON
printf 'name: platform\nruntime: nodejs\nmain: index.ts\n' >Pulumi.yaml
# The README's library example is the program.
sed -n '/<!-- library-example:begin/,/<!-- library-example:end/p' "${root}/README.md" | sed '1,2d;$d' | sed '$d' >index.ts
grep -q 'new RunnerFleet' index.ts || { say "no library example found in the README"; exit 1; }
cat >Pulumi.ci.yaml <<'YAML'
config:
  platform:sshPrivateKey: { secure: v1:placeholder:placeholder }
  platform:actuatedLicense: { secure: v1:placeholder:placeholder }
  platform:actuatedToken: { secure: v1:placeholder:placeholder }
  platform:githubRunnerToken: { secure: v1:placeholder:placeholder }
YAML
# A unit test of the program, as a platform repo writes one with runner-fleet/testing.
cat >program.test.ts <<'TS'
import * as assert from "assert";
import { MINTED_REGISTRATION_TOKEN, byType, record } from "runner-fleet/testing";

async function main(): Promise<void> {
    const { resources } = await record(() => require("./index"), {
        project: "platform", stack: "ci",
        config: { "platform:sshPrivateKey": "k", "platform:actuatedLicense": "l", "platform:actuatedToken": "t", "platform:githubRunnerToken": "g" },
        secretKeys: ["platform:sshPrivateKey", "platform:actuatedLicense", "platform:actuatedToken", "platform:githubRunnerToken"],
    });
    const fleets = byType(resources, "runner-fleet:index:RunnerFleet");
    assert.strictEqual(fleets.length, 1);
    const installs = resources.filter(r => r.name.endsWith("-agent-install"));
    assert.ok(installs.length >= 2, "an install per fleet host");
    // The plain runner's install gets the token the operator-side step minted (answered by runner-fleet/testing).
    const plain = installs.find(r => String(r.inputs.create).includes("install-github-runner.sh"));
    assert.ok(plain && String(plain.inputs.stdin).includes(Buffer.from(MINTED_REGISTRATION_TOKEN).toString("base64")));
    console.log(`program test: ${resources.length} resources, ${installs.length} agent installs`);
}
main().catch(e => { console.error(e); process.exit(1); });
TS

t1=$(date +%s)
npm install --no-audit --no-fund --loglevel=error >install.log 2>&1 || { cat install.log; exit 1; }
say "npm install of the tarball and its dependencies: $(($(date +%s) - t1))s"
t1=$(date +%s)
npx tsc -p . --strict
say "tsc --strict over the README's example and a unit test: $(($(date +%s) - t1))s"

for major in "${majors[@]}"; do
    node_bin=(npx -y "node@${major}")
    say "Node $("${node_bin[@]}" -v)"
    cli=node_modules/runner-fleet/bin/scripts/cli.js
    t1=$(date +%s)
    "${node_bin[@]}" "${cli}" plan --stack ci >plan.txt
    "${node_bin[@]}" "${cli}" plan --stack ci --json >plan.json
    resources="$(node -p "require('./plan.json').resourceCount")"
    hosts="$(node -p "require('./plan.json').hosts.map(h => h.host + '@' + (h.fleet || '-')).join(' ')")"
    say "runner-fleet plan --stack ci: ${resources} resources, hosts ${hosts} ($(($(date +%s) - t1))s)"
    grep -q "^Fleet ci: 2 host(s)" plan.txt || { cat plan.txt; say "the plan does not group the fleet's two hosts"; exit 1; }
    grep -Eq "^  total +[0-9.]+ (EUR|USD)" plan.txt || { cat plan.txt; say "the plan has no cost"; exit 1; }
    grep -q "Host rx170-1: existing rx170, arm64, no agent" plan.txt || { cat plan.txt; say "the plan lost the host the program made itself"; exit 1; }
    for sub in "" plan drift status; do
        # shellcheck disable=SC2086 # an empty subcommand is no argument
        "${node_bin[@]}" "${cli}" ${sub} --help >/dev/null || { say "runner-fleet ${sub} --help failed"; exit 1; }
    done
    set +e
    "${node_bin[@]}" "${cli}" plan --no-such-flag >/dev/null 2>&1
    code=$?
    set -e
    [ "${code}" = 2 ] || { say "an unknown flag exited ${code}, not 2"; exit 1; }
    "${node_bin[@]}" out/program.test.js
done
# The installed command, as npx finds it.
npx runner-fleet --help >/dev/null
say "passed in $(($(date +%s) - t0))s"
