#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` / `npm install` via "prepare").
import '../dist/src/cli/main.js';
