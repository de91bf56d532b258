// Build: cd tracker && npm ci && npm run build
//
// Minifies src/tracker.js and src/chat.js into dist/tracker.min.js and dist/chat.min.js, each
// starting with `/*! crm-tracker v<version> src-sha256:<hex> */`, hex being the SHA-256 of the
// exact bytes of its source file (a Rust test recomputes it to catch a stale committed build;
// the server leaves the hash out of what it serves, so sizes here are measured without it).
// The output is reproducible: same sources and terser version, same bytes.
// The build fails (exit code 1, nothing written) if the core no longer has the shape the server
// relies on (`!function(C){…}(__CRM_CONFIG__);`, the placeholder exactly once), or if a file is
// over its gzip -9 budget: the core as served for a typical site (the config substituted, keys
// at their default left out, as the server does) ≤ 2,048 bytes, chat ≤ 4,096 bytes. It also
// prints the core's size with a configured form (what tests/tracker_script.rs measures) and with
// a heavier config (a form with two fields and the chat widget), warning when over 2,048.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { minify } from "terser";

const here = new URL(".", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("package.json", here)));

// Configs as the server serves them (src/app/script.rs config_json: serde_json objects, so keys
// sorted; keys at their default left out).
const TYPICAL_CONFIG = JSON.stringify({
  c: "0193a0b4-6f6a-7c3e-9d2a-5b1c2d3e4f50",
  e: "https://tracker.example.com",
});
const OTHER_CONFIGS = {
  // tests/tracker_script.rs size_budget: one configured form with one field, a honeypot
  "one form": JSON.stringify({
    c: "0193a0b4-6f6a-7c3e-9d2a-5b1c2d3e4f50",
    e: "http://127.0.0.1:41234",
    f: [{ d: [{ n: "email", s: "#email" }],
      i: "0193a0b4-7a1b-7c3e-8d2a-6b1c2d3e4f51", s: ["#contact"] }],
    h: "website",
  }),
  // a form with two fields and the chat widget
  heavy: JSON.stringify({
    chat: { title: "Questions? Ask Example Ltd" },
    chatSrc: "https://tracker.example.com/script/chat.js",
    c: "0193a0b4-6f6a-7c3e-9d2a-5b1c2d3e4f50",
    e: "https://tracker.example.com",
    f: [{ d: [{ n: "email", s: "#email" }, { n: "name", s: "#fullname" }],
      i: "0193a0b4-7a1b-7c3e-8d2a-6b1c2d3e4f51", s: ["#contact"] }],
  }),
};

const terserOptions = {
  ecma: 2020,
  toplevel: true,
  compress: {
    passes: 3,
    unsafe: true,
    unsafe_methods: true,
    unsafe_regexp: true,
    pure_getters: true,
    unsafe_comps: true,
    unsafe_math: true,
    booleans_as_integers: false,
    drop_console: false,
  },
  mangle: { toplevel: true },
  format: { comments: false, ascii_only: true, wrap_func_args: false },
};

const builds = [
  { name: "tracker", budget: 2048, core: true },
  { name: "chat", budget: 4096 },
];

const gzip = text => gzipSync(text, { level: 9 }).length;
const outputs = [];
let failed = false;
for (const { name, budget, core } of builds) {
  const src = readFileSync(new URL(`src/${name}.js`, here));
  const hash = createHash("sha256").update(src).digest("hex");
  const { code } = await minify(src.toString("utf8"), terserOptions);
  const out = `/*! crm-tracker v${version} src-sha256:${hash} */${code}\n`;

  if (core) {
    const uses = code.split("__CRM_CONFIG__").length - 1;
    if (uses !== 1 || !/^!function\(\w+\)\{[\s\S]*\}\(__CRM_CONFIG__\);$/.test(code))
      throw new Error(`dist/${name}.min.js must be !function(C){…}(__CRM_CONFIG__); with the placeholder once (found ${uses})`);
  }
  // The server serves the build without the source hash (src/app/script.rs as_served).
  const served = out.replace(/ src-sha256:[0-9a-f]+/, "");
  const gz = gzip(core ? served.replace("__CRM_CONFIG__", TYPICAL_CONFIG) : served);
  console.log(`dist/${name}.min.js  ${out.length} bytes, ${gz} gzip -9${core ? " (typical config substituted)" : ""}, budget ${budget}`);
  if (gz > budget) {
    console.error(`ERROR: dist/${name}.min.js is ${gz - budget} bytes over its gzip budget`);
    failed = true;
  }
  if (core) {
    // Informational: these configs only approximate what the server substitutes (its random
    // ids compress differently, and node's gzip is not flate2's), so a few bytes either way
    // of the budget mean nothing here; tests/tracker_script.rs size_budget measures the
    // script the server really serves and enforces the budget on it.
    for (const [label, config] of Object.entries(OTHER_CONFIGS)) {
      const size = gzip(served.replace("__CRM_CONFIG__", config));
      console.log(`  with the ${label} config: about ${size} gzip -9 (the size_budget test checks the served script)`);
    }
  }
  outputs.push([name, out]);
}
if (failed) {
  console.error("build failed: nothing written");
  process.exit(1);
}
mkdirSync(new URL("dist/", here), { recursive: true });
for (const [name, out] of outputs) writeFileSync(new URL(`dist/${name}.min.js`, here), out);
