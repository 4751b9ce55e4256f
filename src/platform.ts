// Node.js platform setup: the Promise.withResolvers polyfill and the node:crypto backend.
// Every Node entry point (CLI, server, tests) imports this first. The browser build does not.
import './polyfill.js';
import { setCryptoBackend } from './crypto/index.js';
import { nodeBackend } from './crypto/node.js';

setCryptoBackend(nodeBackend);
