// The portable default for the client entry (and the browser bundle): noble, unless an entry
// point (src/platform.ts on Node) has set a backend already.
import { hasCryptoBackend, setCryptoBackend } from './index.js';
import { nobleBackend } from './noble.js';

if (!hasCryptoBackend()) setCryptoBackend(nobleBackend);
