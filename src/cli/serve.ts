import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { WitnessNode } from '../node/witness-node.js';
import { UsageError, startupError } from './errors.js';
import { waitForShutdown } from './shutdown.js';
import { readConfig } from './io.js';
import { nudgeMemoryReducer } from './memory-reducer.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a witness: c2sp.org/tlog-witness add-checkpoint, monitoring, evidence and metrics over HTTP')
    .requiredOption('--config <file>', 'YAML config file (see docs/operator-quickstart.md)')
    .option('--print-vkey', "print the witness's vkeys, one per line (cosignature/v1 for Ed25519 keys, 0x06 for ML-DSA-44 keys), and exit (creates a missing key as Ed25519)")
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
          throw startupError(e, 'key');
        }
        const { witnessVkey } = await import('../keys/keyfile.js');
        process.stdout.write(keys.map((k) => witnessVkey(k) + '\n').join(''));
        return;
      }
      const { pino } = await import('pino');
      const logger: Logger = pino({ level: opts.logLevel, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
      let node: WitnessNode;
      try {
        node = await startWitnessNode(config, {
          logger,
          // store.unwritableExitAfter elapsed: a graceful stop, then exit 75 (EX_TEMPFAIL), so that
          // systemd's Restart=on-failure (or any process manager) restarts the node.
          onUnwritableTooLong: () => {
            process.exitCode = 75;
            process.kill(process.pid, 'SIGTERM');
          },
        });
      } catch (e) {
        // Permanent (config, key file, damaged store: exit 2, systemd does not restart) or transient
        // (port in use, database or lock not available yet: exit 75, restarted); a bug exits 70.
        throw startupError(e, 'cannot start the witness');
      }
      // Signal handlers first: whoever reads "witness listening" may send SIGTERM at once.
      const stopped = waitForShutdown(() => node.close(), logger);
      logger.info({ url: node.url, vkeys: node.vkeys, logs: node.registry.origins().length, config: config.file }, 'witness listening');
      // Start-up garbage goes back to the OS once idle, on Node 24 and 26 too (memory-reducer.ts).
      const stopNudging = nudgeMemoryReducer();
      await stopped;
      stopNudging();
    });
}
