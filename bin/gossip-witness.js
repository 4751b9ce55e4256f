#!/usr/bin/env node
// Thin launcher. dist/bin is the CLI bundled by scripts/build-bin.mjs (fewer modules, less memory);
// dist/src is the same code as tsc compiled it, used when the bundle has not been built.
import { existsSync } from 'node:fs';

const bundled = new URL('../dist/bin/main.js', import.meta.url);
await import(existsSync(bundled) ? bundled.href : '../dist/src/cli/main.js');
