// `gossip-witness launch --network FILE`: a local network (logs in-process, witnesses as child
// processes) on 127.0.0.1 until interrupted. See docs/gossip.md#launcher.
// `--prepare compose --dir DIR` only writes keys (kept when present) and witness configs for the
// docker compose topology (docker-compose.yml's init service) and exits.
import type { Command } from 'commander';
import { readFileCappedSync } from '../util/read-capped.js';
import { StartupError, UsageError } from './errors.js';
import { waitForShutdown, type ShutdownLogger } from './shutdown.js';

// launch prints plain text for people, so its shutdown messages are plain lines on stderr.
const textLogger: ShutdownLogger = {
  info: (a: object | string, msg?: string) => process.stderr.write(`${typeof a === 'string' ? a : (msg ?? '')}\n`),
  warn: (_a: object, msg?: string) => process.stderr.write(`${msg ?? ''}\n`),
  error: (a: object | string, msg?: string) => process.stderr.write(`${typeof a === 'string' ? a : (msg ?? '')}\n`),
};

/** A dual-key witness's further keys, one line each after its main line (which keeps one vkey, as tools parse it). */
function alsoVkeys(w: { name: string; vkey: string; vkeys?: readonly string[] }): string {
  return (w.vkeys ?? []).filter((v) => v !== w.vkey).map((v) => `witness ${w.name}: also vkey ${v}\n`).join('');
}

export function registerLaunch(program: Command): void {
  program
    .command('launch')
    .description('start a local log and N gossiping witnesses on 127.0.0.1 from a network config (docs/gossip.md#launcher); runs until interrupted')
    .requiredOption('--network <file>', 'network config (YAML)')
    .option('--dir <dir>', 'keep keys, configs and data here (default: a temporary directory, removed on exit)')
    .option('--prepare <layout>', 'only write keys (kept if present) and witness configs for this layout into --dir, then exit; "compose": every log and witness is a container named after it (docker-compose.yml)')
    .action(async (opts: { network: string; dir?: string; prepare?: string }) => {
      const { launch, prepareNetwork, parseNetworkConfig, NetworkConfigError } = await import('../launcher/index.js');
      let text: string;
      try {
        text = readFileCappedSync(opts.network, 1024 * 1024).toString('utf8'); // 1 MiB, like a witness config
      } catch (e) {
        throw new UsageError(`cannot read ${opts.network}: ${(e as Error).message}`);
      }
      let network;
      try {
        network = parseNetworkConfig(text, opts.network);
      } catch (e) {
        if (e instanceof NetworkConfigError) throw new StartupError('CONFIG', e.message, e);
        throw e;
      }
      if (opts.prepare !== undefined) {
        if (opts.prepare !== 'compose' && opts.prepare !== 'local') throw new UsageError('--prepare must be compose or local');
        if (opts.dir === undefined) throw new UsageError('--prepare needs --dir');
        let prepared;
        try {
          prepared = await prepareNetwork({ network, dir: opts.dir, layout: opts.prepare });
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        for (const l of prepared.logs) process.stdout.write(`log ${l.name}: key ${l.keyFile} origin ${JSON.stringify(l.origin)} vkey ${l.key.vkey}\n`);
        for (const w of prepared.witnesses) process.stdout.write(`witness ${w.name}: config ${w.configFile} vkey ${w.vkey} p2p ${w.p2pAddr}\n${alsoVkeys(w)}`);
        return;
      }
      const net = await launch({ network, ...(opts.dir !== undefined ? { dir: opts.dir } : {}) });
      for (const [name, l] of net.logs) process.stdout.write(`log ${name}: ${l.url} origin ${JSON.stringify(l.origin)} vkey ${l.vkey}\n`);
      for (const w of net.witnesses) process.stdout.write(`witness ${w.name}: ${w.url} vkey ${w.vkey} p2p ${w.p2pAddr}\n${alsoVkeys(w)}`);
      process.stdout.write(`data in ${net.dir}; Ctrl-C stops everything\n`);
      await waitForShutdown(() => net.stop(), textLogger);
    });
}
