// Build: cd tracker && npm ci && npm run build
//
// Minifies src/tracker.js and src/chat.js into dist/tracker.min.js and dist/chat.min.js, each
// starting with `/*! crm-tracker v<version> src-sha256:<hex> */`, hex being the SHA-256 of the
// exact bytes of its source file (a Rust test recomputes it to catch a stale committed build).
// The output is reproducible: same sources and terser version, same bytes.
// The build fails if the core no longer has the shape the server relies on
// (`!function(C){…}(__CRM_CONFIG__);`, the placeholder exactly once), and prints each file's
// gzip -9 size against its budget (the core measured with a typical ~300-byte config substituted,
// as the server serves it).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { minify } from "terser";

const here = new URL(".", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("package.json", here)));

const TYPICAL_CONFIG = JSON.stringify({
  clientId: "0193a5b2-7c1d-7e4f-9a8b-1c2d3e4f5a6b",
  endpoint: "https://crm.example.com",
  forms: [{ formId: "0193a5b2-8d2e-7f50-8b9c-2d3e4f5a6b7c", selectors: ["#contact"],
    fields: [] }],
  partial: true, consent: "none", honeypot: "website", chat: null,
  chatSrc: "https://crm.example.com/script/chat.js", debug: false,
});

const terserOptions = {
  ecma: 2020,
  toplevel: true,
  compress: {
    passes: 3,
    unsafe: true,
    unsafe_methods: true,
    unsafe_regexp: true,
    pure_getters: true,
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

mkdirSync(new URL("dist/", here), { recursive: true });
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
  const served = core ? out.replace("__CRM_CONFIG__", TYPICAL_CONFIG) : out;
  const gz = gzipSync(served, { level: 9 }).length;

  writeFileSync(new URL(`dist/${name}.min.js`, here), out);
  console.log(`dist/${name}.min.js  ${out.length} bytes, ${gz} gzip -9${core ? " (typical config substituted)" : ""}, budget ${budget}`);
  if (gz > budget) console.warn(`WARNING: dist/${name}.min.js is ${gz - budget} bytes over its gzip budget`);
}
