// The component package's entry at run time: a function the Node.js language
// host runs, which serves the package's components (host.ts) from the build
// at the repository root (npm ci, then npm run build).
"use strict";
const path = require("path");
const fs = require("fs");
const built = path.join(__dirname, "..", "bin", "plugin", "host.js");
if (!fs.existsSync(built)) {
    throw new Error(`runner-fleet: ${built} is missing; build the package first: npm ci && npm run build in ${path.dirname(__dirname)}`);
}
module.exports = () => require(built).serve();
