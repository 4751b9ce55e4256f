import type { Command } from 'commander';
import { registerKeygen } from './keygen.js';
import { registerNote } from './note.js';
import { registerProof } from './proof.js';
import { registerServe } from './serve.js';
import { registerEvidence } from './evidence.js';
import { registerLog } from './log.js';
import { registerClient } from './fetch.js'; // verify and fetch
import { registerLaunch } from './launch.js';
import { registerSimulate } from './simulate.js';
import { registerStore } from './store.js';

// One file per command; each registers its subcommands here.
export function registerCommands(program: Command): void {
  registerKeygen(program);
  registerNote(program);
  registerProof(program);
  registerServe(program);
  registerEvidence(program);
  registerLog(program);
  registerClient(program);
  registerLaunch(program);
  registerSimulate(program);
  registerStore(program);
}
