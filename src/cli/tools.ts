// The subcommands that live in the tools package (@gossip-witness/tools: the simulator and the
// local launcher), so that the witness node package does not carry their dependencies (vega,
// vega-lite, cli-progress). Loaded from, in order:
//   1. this package's own compiled sources (a clone of the repository: dist/ and src/ have them);
//   2. the installed @gossip-witness/tools package;
//   3. neither: the command is still listed, and running it says how to install the package (exit 2).
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.js';

export const TOOLS_PACKAGE = '@gossip-witness/tools';

type Register = (program: Command) => void;
export type ToolCommand = 'simulate' | 'launch';

const EXPORTS: Record<ToolCommand, string> = { simulate: 'registerSimulate', launch: 'registerLaunch' };

const DESCRIPTIONS: Record<ToolCommand, string> = {
  simulate: 'run a split-view attack scenario (docs/simulator.md)',
  launch: 'start a local log and N gossiping witnesses on 127.0.0.1 (docs/gossip.md#launcher)',
};

/** True when e says that exactly `what` (a file path or a package name) could not be found. */
function notFound(e: unknown, what: string): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === 'ERR_MODULE_NOT_FOUND' && typeof err.message === 'string' && err.message.includes(`'${what}'`);
}

async function fromSources(name: ToolCommand): Promise<Register | undefined> {
  // Literal specifiers, so that tsx and tsc see them; the compiled file may be left out of the package.
  const url = new URL(name === 'simulate' ? './simulate.js' : './launch.js', import.meta.url);
  try {
    const m = name === 'simulate' ? await import('./simulate.js') : await import('./launch.js');
    return (m as Record<string, Register>)[EXPORTS[name]];
  } catch (e) {
    if (url.protocol === 'file:' && notFound(e, fileURLToPath(url))) return undefined;
    throw e;
  }
}

async function fromPackage(name: ToolCommand): Promise<Register | undefined> {
  const spec: string = TOOLS_PACKAGE; // not a literal: the package is optional (no types needed)
  try {
    const m = (await import(spec)) as Record<string, Register | undefined>;
    const r = m[EXPORTS[name]];
    if (typeof r !== 'function') throw new Error(`${TOOLS_PACKAGE} has no ${EXPORTS[name]}: install the version that matches gossip-witness`);
    return r;
  } catch (e) {
    if (notFound(e, TOOLS_PACKAGE)) return undefined;
    throw e;
  }
}

/** The command as a placeholder: listed in help, and running it explains how to install the tools. */
function missing(name: ToolCommand): Register {
  return (program) => {
    program
      .command(name)
      .description(`${DESCRIPTIONS[name]} [needs ${TOOLS_PACKAGE}]`)
      .helpOption(false)
      .allowUnknownOption()
      .argument('[args...]')
      .action(() => {
        throw new UsageError(
          `'gossip-witness ${name}' is in the tools package, which is not installed: npm install ${TOOLS_PACKAGE} ` +
            `(next to gossip-witness; with -g if gossip-witness is installed globally), or run it from a clone of the repository`,
        );
      });
  };
}

/** The register function of a tools subcommand, from wherever it is installed (see the top). */
export async function loadTool(name: ToolCommand): Promise<Register> {
  return (await fromSources(name)) ?? (await fromPackage(name)) ?? missing(name);
}
