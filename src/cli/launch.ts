// `gossip-witness launch --network FILE`: a local network (logs in-process, witnesses as child
// processes) on 127.0.0.1 until interrupted. See docs/gossip.md#launcher.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export function registerLaunch(program: Command): void {
  program
    .command('launch')
    .description('start a local log and N gossiping witnesses on 127.0.0.1 from a network config (docs/gossip.md#launcher); runs until interrupted')
    .requiredOption('--network <file>', 'network config (YAML)')
    .option('--dir <dir>', 'keep keys, configs and data here (default: a temporary directory, removed on exit)')
    .action(async (opts: { network: string; dir?: string }) => {
      const { launch, parseNetworkConfig, NetworkConfigError } = await import('../launcher/index.js');
      let text: string;
      try {
        text = readFileSync(opts.network, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read ${opts.network}: ${(e as Error).message}`);
      }
      let network;
      try {
        network = parseNetworkConfig(text, opts.network);
      } catch (e) {
        if (e instanceof NetworkConfigError) throw new UsageError(e.message);
        throw e;
      }
      const net = await launch({ network, ...(opts.dir !== undefined ? { dir: opts.dir } : {}) });
      for (const [name, l] of net.logs) process.stdout.write(`log ${name}: ${l.url} origin ${JSON.stringify(l.origin)} vkey ${l.vkey}\n`);
      for (const w of net.witnesses) process.stdout.write(`witness ${w.name}: ${w.url} vkey ${w.vkey} p2p ${w.p2pAddr}\n`);
      process.stdout.write(`data in ${net.dir}; Ctrl-C stops everything\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void net.stop().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
