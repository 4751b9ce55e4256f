// `gossip-witness store verify` and `gossip-witness store import`: offline tools for a STOPPED
// witness's data folder (docs/operator-guide.md, "When things break").
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { WitnessConfig } from '../config.js';
import type { LogRegistry } from '../witness/witness.js';
import type { Verifier } from '../note/keys.js';
import { RefusedError, UsageError } from './errors.js';
import { readConfig, readInput } from './io.js';

/** The configured logs (inline and the log list, or its cached copy) and this witness's cosignature keys (Ed25519 and ML-DSA-44). */
async function keysOf(config: WitnessConfig): Promise<{ logs: LogRegistry; ownKeys: Verifier[]; stop: () => void }> {
  const { existsSync } = await import('node:fs');
  const { readWitnessKeyFile, witnessVkey } = await import('../keys/keyfile.js');
  const { parseCosignatureVkey } = await import('../note/keys.js');
  const { LogRegistryImpl } = await import('../logs/registry.js');
  const ownKeys: Verifier[] = [];
  for (const f of config.keyFiles) {
    if (!existsSync(f)) throw new UsageError(`key file ${f} does not exist`);
    try {
      ownKeys.push(parseCosignatureVkey(witnessVkey(readWitnessKeyFile(f))));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const registry = new LogRegistryImpl({ inline: config.logs, logList: config.logList, cachePath: config.logList ? `${config.data}.loglist` : undefined });
  await registry.start().catch(() => {}); // a log list that cannot load: the inline logs and the cache remain
  return { logs: registry, ownKeys, stop: () => registry.stop() };
}

async function checkIdentity(file: string): Promise<void> {
  const { loadOrCreatePeerKey } = await import('../gossip/host.js');
  await loadOrCreatePeerKey(file);
}

/** The offline commands work on a LevelDB folder; a PostgreSQL witness does both online. */
const PG_OFFLINE = 'this config uses a PostgreSQL store (store: URL): the offline store commands are for LevelDB data folders; a running witness moves a log forward by itself when a checkpoint cosigned by its own key is POSTed to /add-checkpoint (docs/operator-guide.md, "PostgreSQL")';

export function registerStore(program: Command): void {
  const store = program.command('store').description("check or move forward a STOPPED witness's data folder (docs/operator-guide.md, \"When things break\")");
  store
    .command('verify')
    .description('offline check of a stopped witness data folder: exit 0 with a one-line summary when sound, 1 with every problem otherwise')
    .option('--config <file>', 'the witness config (its data folder; log keys and witness keys are verified too)')
    .option('--data <dir>', 'a data folder (without --config: store checks only)')
    .action(async (opts: { config?: string; data?: string }) => {
      if (!opts.config && !opts.data) throw new UsageError('store verify needs --config FILE or --data DIR');
      const config = opts.config ? await readConfig(opts.config) : undefined;
      const dir = opts.data ?? config!.data;
      if (dir === undefined) throw new UsageError(PG_OFFLINE);
      const keys = config ? await keysOf(config) : undefined;
      const { verifyDataDir } = await import('../store/offline.js');
      try {
        const r = await verifyDataDir(dir, { ...(keys ? { logs: keys.logs, ownKeys: keys.ownKeys } : {}), checkIdentity });
        if (!r.sound) throw new RefusedError(`data directory ${dir} is NOT sound:\n${r.problems.map((p) => `  - ${p}`).join('\n')}\nsee docs/operator-guide.md, "When things break"`);
        process.stdout.write(`sound: ${r.summary}\n`);
      } finally {
        keys?.stop();
      }
    });
  store
    .command('import')
    .description("move logs forward to checkpoints cosigned by one of this witness's own keys (the witness must be stopped); refuses anything else")
    .requiredOption('--config <file>', 'the witness config (data folder, logs, key files)')
    .requiredOption('--checkpoint <file...>', 'a log-signed checkpoint note carrying a cosignature line by this witness (one per log; repeatable)')
    .action(async (opts: { config: string; checkpoint: string[] }) => {
      const config = await readConfig(opts.config);
      const dataDir = config.data;
      if (dataDir === undefined) throw new UsageError(PG_OFFLINE);
      const notes = opts.checkpoint.map((f) => {
        const text = readInput(f).toString('utf8');
        if (text.length === 0) throw new UsageError(`${f} is empty`);
        return text;
      });
      // Importing into a folder that is not there makes a new store (a restore after the folder
      // was lost); a typo in the path would do the same, silently: say so, as serve does.
      if (!existsSync(dataDir)) process.stderr.write(`gossip-witness: warning: data folder ${dataDir} does not exist: a new store is made there if anything is imported (if the witness's data is elsewhere, fix "data:" in ${opts.config})\n`);
      const keys = await keysOf(config);
      const { importCheckpoints, ImportRefusedError } = await import('../store/offline.js');
      try {
        const done = await importCheckpoints(dataDir, notes, keys.logs, keys.ownKeys);
        for (const d of done) process.stdout.write(`imported: log ${d.origin} at size ${d.size}\n`);
      } catch (e) {
        if (e instanceof ImportRefusedError) throw new RefusedError(`store import: ${e.message}`);
        throw new UsageError((e as Error).message);
      } finally {
        keys.stop();
      }
    });
}
