#!/usr/bin/env node
// Validate a glTF/GLB file with the Khronos glTF-Validator (npm package `gltf-validator`).
// Usage: node tools/gltf-validate/validate.mjs FILE.glb
// Prints the issue summary and the first messages; exits 1 on any error, 2 on bad usage or
// an unreadable file, 0 otherwise (warnings, infos and hints are printed but do not fail).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const validator = require('gltf-validator');

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const MAX_SHOWN = 20;

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  console.error('usage: node validate.mjs FILE.glb');
  process.exit(2);
}

let bytes;
try {
  bytes = new Uint8Array(await readFile(file));
} catch (e) {
  console.error(`${file}: cannot read: ${e.message}`);
  process.exit(2);
}

let report;
try {
  report = await validator.validateBytes(bytes, { uri: file, maxIssues: 1000 });
} catch (e) {
  console.error(`${file}: validator could not parse the file: ${e}`);
  process.exit(1);
}

const is = report.issues;
console.log(
  `${file}: glTF-Validator ${report.validatorVersion}: ` +
    `numErrors=${is.numErrors} numWarnings=${is.numWarnings} ` +
    `numInfos=${is.numInfos} numHints=${is.numHints}${is.truncated ? ' (truncated)' : ''}`,
);
if (report.info) {
  const i = report.info;
  console.log(
    `  version=${i.version} generator=${i.generator ?? '-'} ` +
      `primitives=${i.drawCallCount ?? '-'} ` +
      `vertices=${i.totalVertexCount ?? '-'} triangles=${i.totalTriangleCount ?? '-'}`,
  );
}
const msgs = [...is.messages].sort((a, b) => a.severity - b.severity);
for (const m of msgs.slice(0, MAX_SHOWN)) {
  console.log(`  [${SEVERITY[m.severity] ?? m.severity}] ${m.code} ${m.pointer ?? ''}: ${m.message}`);
}
if (msgs.length > MAX_SHOWN) {
  console.log(`  ... ${msgs.length - MAX_SHOWN} more`);
}
process.exit(is.numErrors > 0 ? 1 : 0);
