#!/usr/bin/env node
// Thin launcher. dist/bin is the CLI bundled by scripts/build-bin.mjs from dist/src (fewer modules,
// less memory); dist/src is the same code as tsc compiled it. A tsc run alone leaves the bundle
// older than dist/src: then dist/src runs, so a rebuilt tree never runs stale code. (npm pack gives
// every file one mtime, so an installed package runs the bundle.)
import { existsSync, statSync } from 'node:fs';

const bundled = new URL('../dist/bin/main.js', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
const fresh = existsSync(bundled) && (!existsSync(compiled) || statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs);
await import(fresh ? bundled.href : compiled.href);
