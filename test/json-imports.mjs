// A module loader hook (node:module register) for GitHub's workflow parser:
// @actions/workflow-parser imports its JSON schema without `with { type:
// "json" }`, which Node refuses; this adds the attribute to .json imports.
export async function load(url, context, nextLoad) {
    if (url.endsWith(".json") && context.importAttributes?.type !== "json") {
        return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
    }
    return nextLoad(url, context);
}
