#!/usr/bin/env node
// `npx gossip-witness-demo`: the demo (the repository's `npm run demo`), from the installed packages.
import '../dist/demo.js';
