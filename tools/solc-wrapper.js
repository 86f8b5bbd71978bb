#!/usr/bin/env node
// A `solc`-compatible command line around solc-js (npm `solc`), so that py-solc-x,
// brownie, forge and slither all compile with one pinned compiler.
//
// Supported:  --version | -v           -> "solc, the solidity compiler ...\nVersion: <v>"
//             --standard-json [file]   -> standard JSON in (stdin or file), out on stdout
//             --base-path/--include-path/--allow-paths DIR   (used as import roots)
// Not supported (exit 2 with a message): the legacy CLI (--bin, --abi, --combined-json,
// positional .sol files), --optimize flags outside standard JSON, --lsp, --import-ast.
'use strict';
const fs = require('fs');
const path = require('path');

// The project root is the folder above tools/. SCF_PROJECT_ROOT overrides it, which
// lets a copy of this file (e.g. in ~/.solcx) still find the project's node_modules.
const PROJECT_ROOT = process.env.SCF_PROJECT_ROOT || path.resolve(__dirname, '..');
const solc = require(require.resolve('solc', { paths: [PROJECT_ROOT, __dirname] }));

function fail(message) {
  process.stderr.write(`solc-wrapper: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const roots = [];
let standardJson = false;
let inputFile = null;
const PATH_FLAGS = new Set(['--base-path', '--include-path', '--allow-paths']);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--version' || a === '-v') {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    process.exit(0);
  } else if (a === '--standard-json') {
    standardJson = true;
    if (args[i + 1] && !args[i + 1].startsWith('-')) inputFile = args[++i];
  } else if (PATH_FLAGS.has(a)) {
    const v = args[++i] || '';
    for (const p of v.split(',')) if (p) roots.push(path.resolve(p));
  } else if (a.startsWith('--') && a.includes('=') && PATH_FLAGS.has(a.split('=')[0])) {
    for (const p of a.split('=')[1].split(',')) if (p) roots.push(path.resolve(p));
  } else if (a === '--no-color' || a === '--pretty-json' || a === '--json-indent') {
    if (a === '--json-indent') i++;
  } else {
    fail(`unsupported argument ${JSON.stringify(a)}; only --version and --standard-json are provided`);
  }
}
if (!standardJson) fail('only --standard-json mode is supported (see --version)');

const searchRoots = [process.cwd(), ...roots, PROJECT_ROOT, path.join(PROJECT_ROOT, 'node_modules')];

function resolveFile(p) {
  if (path.isAbsolute(p) && fs.existsSync(p)) return p;
  for (const root of searchRoots) {
    const candidate = path.join(root, p);
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function findImports(p) {
  const file = resolveFile(p);
  if (!file) return { error: `File not found: ${p} (searched ${searchRoots.join(', ')})` };
  return { contents: fs.readFileSync(file, 'utf8') };
}

const raw = inputFile ? fs.readFileSync(inputFile, 'utf8') : fs.readFileSync(0, 'utf8');
let input;
try {
  input = JSON.parse(raw);
} catch (e) {
  fail(`standard JSON input is not valid JSON: ${e.message}`);
}
// forge (and some tools) send `urls` (file paths) instead of inline `content`.
for (const [name, src] of Object.entries(input.sources || {})) {
  if (src.content === undefined && Array.isArray(src.urls)) {
    for (const url of src.urls) {
      const file = resolveFile(url);
      if (file) {
        src.content = fs.readFileSync(file, 'utf8');
        delete src.urls;
        break;
      }
    }
    if (src.content === undefined) fail(`cannot read source ${name} from ${src.urls.join(', ')}`);
  }
}
const output = solc.compile(JSON.stringify(input), { import: findImports });
process.stdout.write(output);
process.stdout.write('\n');
