// Optimises many wasm modules like `wasm-opt -Oz`, in one node process: a wasm-opt run per
// file (~190 split chunks) spends most of its time starting node and binaryen, minutes in all.
// Run by xtask (frontend.rs) as
//   node wasm_opt_chunks.mjs BINARYEN_INDEX_JS FEATURES FILE...
// FEATURES being a comma-separated list of `binaryen.Features` names. Each file is rewritten
// in place only when its optimised module validates, compiles and is smaller; on any error it
// is kept as it was. Exports are kept as they are and imports are never renamed or added
// (unused ones may go), so the split chunks still link to the main module.
// Prints one summary line on stdout.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [binaryenPath, featureNames, ...files] = process.argv.slice(2);
const { default: binaryen } = await import(pathToFileURL(binaryenPath).href);

let features = 0;
for (const name of featureNames.split(",").filter(Boolean)) {
  const bit = binaryen.Features[name];
  if (typeof bit !== "number") throw new Error(`unknown binaryen feature ${name}`);
  features |= bit;
}
// -Oz
binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(2);
binaryen.setDebugInfo(false);

// The module without its custom sections (names, producers...): `wasm-opt -Oz` drops them
// too, and binaryen warns about every name subsection it does not know.
function withoutCustomSections(bytes) {
  const kept = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    const start = at++;
    let [size, shift] = [0, 0];
    for (;;) {
      const byte = bytes[at++];
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    at += size;
    if (at > bytes.length) throw new Error("truncated section");
    if (bytes[start] !== 0) kept.push(bytes.subarray(start, at));
  }
  return Buffer.concat(kept);
}

const sameList = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const imports = (m) => WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}:${i.kind}`);

let [before, after, optimised, failed] = [0, 0, 0, 0];
for (const file of files) {
  const bytes = readFileSync(file);
  before += bytes.length;
  let out = bytes;
  let module;
  try {
    const original = new WebAssembly.Module(bytes);
    module = binaryen.readBinary(withoutCustomSections(bytes), features);
    module.setFeatures(features);
    module.optimize();
    if (!module.validate()) throw new Error("the optimised module does not validate");
    const binary = module.emitBinary();
    if (binary.length < bytes.length) {
      // Check the result as the browser will see it: it compiles, exports the same, and
      // imports nothing the original did not.
      const result = new WebAssembly.Module(binary);
      if (!sameList(WebAssembly.Module.exports(result), WebAssembly.Module.exports(original))) {
        throw new Error("the optimised module's exports differ");
      }
      const had = new Set(imports(original));
      if (!imports(result).every((i) => had.has(i))) {
        throw new Error("the optimised module has new imports");
      }
      out = binary;
    }
  } catch (err) {
    if (failed++ < 5) console.error(`${file}: ${err?.message ?? err}; keeping it unoptimised`);
  } finally {
    module?.dispose();
  }
  if (out !== bytes) {
    writeFileSync(file, out);
    optimised++;
  }
  after += out.length;
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `optimised ${optimised} of ${files.length} lazy wasm modules (${failed} failed): ` +
    `${kib(before)} → ${kib(after)}`,
);
