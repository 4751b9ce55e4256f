#!/usr/bin/env node
import '../platform.js';
import { Command, CommanderError, type Option } from 'commander';
import { EXIT_CODES, exitCodeFor } from './errors.js';
import { GossipWitnessError } from '../errors.js';
import { registerCommands } from './commands.js';

const program = new Command();
program
  .name('gossip-witness')
  .description('A transparency-log witness that gossips cosigned checkpoints and proves split views')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

/**
 * Commander checks for missing required options before unknown ones, so `verify --polcy FILE`
 * would say "required option '--policy' not specified". Report the unknown flag first.
 */
// Both methods exist in commander 14 (lib/command.js) but are not in its type declarations.
interface CommanderInternals {
  missingMandatoryOptionValue(option: Option): void;
  unknownOption(flag: string): void;
}
function unknownFlagsFirst(cmd: Command): void {
  const c = cmd as unknown as CommanderInternals;
  const original = c.missingMandatoryOptionValue.bind(cmd);
  c.missingMandatoryOptionValue = (option: Option) => {
    for (const arg of cmd.args) {
      if (arg === '--') break;
      if (!arg.startsWith('-') || arg === '-') continue;
      const flag = arg.startsWith('--') ? arg.split('=')[0] : arg.slice(0, 2);
      if (!cmd.options.some((o) => o.long === flag || o.short === flag) && flag !== '-h' && flag !== '--help') c.unknownOption(arg);
    }
    original(option);
  };
  for (const sub of cmd.commands) unknownFlagsFirst(sub);
}
/** A flag that takes one value, given twice, is a usage error (commander keeps the last silently). */
function onceOnly(cmd: Command): void {
  for (const o of cmd.options) {
    if (o.variadic || o.parseArg !== undefined || !(o.required || o.optional)) continue; // repeatable (collect), or a switch
    let seen = false;
    cmd.on(`option:${o.name()}`, () => {
      if (seen) cmd.error(`error: option '${o.flags}' given more than once`, { code: 'commander.conflictingOption', exitCode: 2 });
      seen = true;
    });
  }
  for (const sub of cmd.commands) onceOnly(sub);
}
// Exit codes: one table, EXIT_CODES in ./errors.ts (README, "Command line").
try {
  // Only the command being run is loaded (src/cli/commands.ts); a module that fails to load is a bug (exit 70).
  await registerCommands(program);
  unknownFlagsFirst(program);
  onceOnly(program);
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; every commander error (unknown or missing flag, bad argument) is usage.
    process.exitCode = e.exitCode === 0 ? EXIT_CODES.OK.exit : EXIT_CODES.USAGE.exit;
  } else if (e instanceof GossipWitnessError && e.kind !== 'INTERNAL') {
    // Any code of the vocabulary (src/errors.ts): the exit code of its kind.
    process.stderr.write(`gossip-witness: ${e.message}\n`);
    process.exitCode = exitCodeFor(e);
  } else {
    // A bug: say so, with the stack, and a code of its own.
    const err = e instanceof GossipWitnessError && e.cause !== undefined ? e.cause : e;
    process.stderr.write(`gossip-witness: internal error (a bug; please report it with this output):\n${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT_CODES.INTERNAL.exit;
  }
}
