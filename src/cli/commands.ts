import type { Command } from 'commander';

/** Adds one top-level command (with its subcommands) to the program. */
export type RegisterCommand = (program: Command) => void;

/**
 * The CLI's commands. Each module loads only when its command runs (or for the top-level help,
 * which lists them all), so `serve` does not pay for the simulator's or the client's modules:
 * memory and start-up time (issue 14). To add a command, add a row: its names and a loader.
 */
export const COMMANDS: { readonly names: readonly string[]; readonly load: () => Promise<RegisterCommand> }[] = [
  { names: ['keygen'], load: async () => (await import('./keygen.js')).registerKeygen },
  { names: ['note'], load: async () => (await import('./note.js')).registerNote },
  { names: ['proof'], load: async () => (await import('./proof.js')).registerProof },
  { names: ['serve'], load: async () => (await import('./serve.js')).registerServe },
  { names: ['evidence'], load: async () => (await import('./evidence.js')).registerEvidence },
  { names: ['log'], load: async () => (await import('./log.js')).registerLog },
  { names: ['verify', 'fetch'], load: async () => (await import('./fetch.js')).registerClient },
  // launch and simulate are in the tools package (@gossip-witness/tools); tools.ts finds it or says how to get it.
  { names: ['launch'], load: async () => (await import('./tools.js')).loadTool('launch') },
  { names: ['simulate'], load: async () => (await import('./tools.js')).loadTool('simulate') },
  { names: ['store'], load: async () => (await import('./store.js')).registerStore },
];

/** The command argv names: its first argument that is not an option (undefined: none). */
export function commandName(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/**
 * Registers the command that args (process.argv without node and the script) names; every
 * command when args name none or an unknown one, so that help and "unknown command" (with its
 * suggestions) see them all.
 */
export async function registerCommands(program: Command, args: readonly string[] = process.argv.slice(2)): Promise<void> {
  const name = commandName(args);
  const one = COMMANDS.find((c) => name !== undefined && c.names.includes(name));
  for (const c of one ? [one] : COMMANDS) (await c.load())(program);
}
