import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { WitnessConfig } from '../config.js';
import type { WitnessNode } from '../node/witness-node.js';
import { UsageError } from './errors.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

// The server stack (fastify, level, pino) loads only when serve runs, so other commands start fast.
async function readConfig(file: string): Promise<WitnessConfig> {
  const { loadConfig, ConfigError } = await import('../config.js');
  try {
    return loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a witness: c2sp.org/tlog-witness add-checkpoint, monitoring, evidence and metrics over HTTP')
    .requiredOption('--config <file>', 'YAML config file (see docs/operator-quickstart.md)')
    .option('--print-vkey', "print the witness's cosignature vkey(s), one per line, and exit (creates a missing key)")
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')}`, 'info')
    .action(async (opts: { config: string; printVkey?: boolean; logLevel: string }) => {
      if (!LEVELS.includes(opts.logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
      const config = await readConfig(opts.config);
      const { startWitnessNode, loadWitnessKeys } = await import('../node/witness-node.js');
      if (opts.printVkey) {
        let keys;
        try {
          keys = loadWitnessKeys(config).keys;
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        process.stdout.write(keys.map((k) => k.cosignatureVkey + '\n').join(''));
        return;
      }
      const { pino } = await import('pino');
      const logger: Logger = pino({ level: opts.logLevel, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
      let node: WitnessNode;
      try {
        node = await startWitnessNode(config, { logger });
      } catch (e) {
        // Unusable setup (key file, data directory, port, log list): exit 2 with the reason.
        throw new UsageError((e as Error).message);
      }
      logger.info({ url: node.url, vkeys: node.vkeys, logs: node.registry.origins().length, config: config.file }, 'witness listening');
      await waitForShutdown(node, logger);
    });
}

function waitForShutdown(node: WitnessNode, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        logger.error('graceful shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      node
        .close()
        .then(
          () => logger.info('stopped'),
          (e) => {
            logger.error({ err: e }, 'error during shutdown');
            process.exitCode = 1;
          },
        )
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          // Exit even if a library left a handle open.
          setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
