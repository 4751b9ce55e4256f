#!/usr/bin/env node
import '../platform.js';
import { Command, CommanderError } from 'commander';
import { UsageError, RefusedError } from './errors.js';
import { registerCommands } from './commands.js';

const program = new Command();
program
  .name('gossip-witness')
  .description('A transparency-log witness that gossips cosigned checkpoints and proves split views')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });
registerCommands(program);

// Commander signals help/version with exit code 0 and bad flags with 1; bad flags must exit 2.
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError || e instanceof RefusedError) {
    process.stderr.write(`gossip-witness: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`gossip-witness: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  }
}
