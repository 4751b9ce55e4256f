#!/usr/bin/env node
// Not a bin of this package: the launcher starts witness processes with <package root>/bin/gossip-witness.js,
// and from this package that is the installed node package's CLI.
import 'gossip-witness/internal/cli/main.js';
