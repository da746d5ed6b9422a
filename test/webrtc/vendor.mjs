// vendor.mjs rebuilds web/phone/vendor/ from the pinned npm packages:
// jssip.min.js (JsSIP and its dependencies in one browser script defining the
// global JsSIP) and LICENSES.md (the license of every package in it).
// Run with `npm install && npm run vendor` after changing the jssip version.
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";

const out = new URL("../../web/phone/vendor/", import.meta.url);
const result = await build({
  entryPoints: ["node_modules/jssip/lib/JsSIP.js"],
  bundle: true, minify: true, format: "iife", globalName: "JsSIP",
  platform: "browser", target: "es2020", legalComments: "none",
  metafile: true, outfile: new URL("jssip.min.js", out).pathname,
});

// Every package the bundle pulled in, with its license text.
const pkgs = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) pkgs.add(m[1]);
}
let text = "# Licenses of web/phone/vendor/jssip.min.js\n\nBuilt by test/webrtc/vendor.mjs from these npm packages.\n";
for (const name of [...pkgs].sort()) {
  const dir = `node_modules/${name}/`;
  const meta = JSON.parse(readFileSync(dir + "package.json", "utf8"));
  const file = ["LICENSE", "LICENSE.md", "license.md", "LICENSE.txt"].find((f) => {
    try { readFileSync(dir + f); return true; } catch { return false; }
  });
  text += `\n## ${name} ${meta.version} (${meta.license})\n\n`;
  text += file ? readFileSync(dir + file, "utf8").trim() + "\n" : `License: ${meta.license}\n`;
}
writeFileSync(new URL("LICENSES.md", out), text);
console.log("vendored", [...pkgs].sort().join(", "));
