// The component package's entry at run time: the same classes, from the
// build at the repository root (npm ci, then npm run build).
"use strict";
const path = require("path");
const fs = require("fs");
const built = path.join(__dirname, "..", "bin", "plugin", "index.js");
if (!fs.existsSync(built)) {
    throw new Error(`runner-fleet: ${built} is missing; build the package first: npm ci && npm run build in ${path.dirname(__dirname)}`);
}
module.exports = require(built);
