// Child process for test/store/faults.test.ts:
//   node --import tsx test/store/faults-child.ts DIR TOTAL_ACKS|forever
// Opens a LevelStore in DIR through the real witness core, creates the p2p identity key, and
// acknowledges checkpoints of two deterministic logs in turn (one leaf each), printing
// "ack <origin> <size>" only after the witness answered 'cosigned' (state durable). Early on it
// records split-view evidence and a suspect; every 20 acks it compacts LevelDB (so *.ldb files
// exist beside the *.log). With a number it closes cleanly after that many acks in total and
// prints "done"; with "forever" it runs until the parent SIGKILLs it.
import { LevelStore } from '../../src/store/level.js';
import { loadOrCreatePeerKey } from '../../src/gossip/host.js';
import { Witness } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { faultLogs, faultWitnessKey, identityFile, registryOf } from './faults-fixture.js';
import { cosigner } from '../../src/note/index.js';

const [dir, limitArg] = process.argv.slice(2);
if (!dir || !limitArg) {
  process.stderr.write('usage: faults-child.ts DIR TOTAL_ACKS|forever\n');
  process.exit(2);
}
const limit = limitArg === 'forever' ? Infinity : Number(limitArg);

const store = await LevelStore.open(dir, { onWarning: (m) => process.stderr.write(`warn: ${m}\n`) });
await loadOrCreatePeerKey(identityFile(dir));
const logs = faultLogs();
const witness = new Witness({ store, logs: registryOf(logs), cosigners: [cosigner(faultWitnessKey())] });
const enc = (s: string) => new TextEncoder().encode(s);
const push = (old: bigint, note: string, proof: Uint8Array[] = []) => witness.addCheckpoint(enc(formatAddCheckpointBody(old, proof, note)));

let total = 0;
for (const log of logs) {
  const s = (await store.getState(log.origin))?.size ?? 0n;
  log.append(Number(s));
  total += Number(s);
}
process.stdout.write(`ready ${total}\n`);
let extrasDone = (await store.listEvidence()).length > 0;

while (total < limit) {
  for (const log of logs) {
    const old = log.tree.size;
    log.append(1);
    const r = await push(old, log.checkpoint(), old === 0n ? [] : log.tree.consistencyProof(old, log.tree.size));
    if (r.kind !== 'cosigned') {
      process.stderr.write(`unexpected answer ${r.kind} at ${log.origin} ${log.tree.size}\n`);
      process.exit(3);
    }
    total++;
    process.stdout.write(`ack ${log.origin} ${log.tree.size}\n`);
  }
  if (!extrasDone && total >= 8) {
    // Split-view evidence (same size, other root, both log-signed) and a suspect (bad proof).
    const log = logs[0];
    const size = log.tree.size;
    const fork = log.fork(size - 2n).append(2, 'fork');
    await push(size, fork.checkpoint(size));
    const sus = log.fork(size).append(1, 'suspect');
    await push(size, sus.checkpoint(size + 1n), [new Uint8Array(32).fill(9)]);
    extrasDone = true;
  }
  // Not right before a clean stop: the newest *.log then still holds the latest acknowledged states.
  if (total % 20 === 0 && total < limit) await (store.database as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('\u0000', '\uffff');
}
await store.close();
process.stdout.write('done\n');
