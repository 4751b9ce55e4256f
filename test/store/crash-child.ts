// Child process for test/store/crash.test.ts: `node --import tsx test/store/crash-child.ts DIR`.
// Opens a LevelStore in DIR and, for several origins concurrently, CASes size n -> n+1 forever,
// printing "ack <origin> <size>" only after each compareAndSet resolved (i.e. was durable).
// Prints "ready <origin>=<size> ..." first. The parent SIGKILLs it at some point.
import { LevelStore } from '../../src/store/level.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: crash-child.ts DIR\n');
  process.exit(2);
}

const ORIGINS = ['crash.example/a', 'crash.example/b', 'crash.example/c', 'crash.example/d'];
const PAD = 'p'.repeat(4096); // bigger values make LevelDB rotate its log and compact meanwhile

/** A checkpoint note (with a dummy log signature line) that matches the stored size and root. */
function noteFor(origin: string, size: bigint, root: Uint8Array): string {
  const sig = Buffer.alloc(68, 7).toString('base64');
  return `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n\n\u2014 crash.example ${sig}\n`;
}

const store = await LevelStore.open(dir);
const start = await Promise.all(ORIGINS.map(async (o) => (await store.getState(o))?.size ?? 0n));
// On Linux, writes to a pipe are synchronous, so an ack line is out before the next write starts.
process.stdout.write(`ready ${ORIGINS.map((o, i) => `${o}=${start[i]}`).join(' ')}\n`);

await Promise.all(
  ORIGINS.map(async (origin, i) => {
    let size = start[i];
    for (;;) {
      const next = size + 1n;
      const root = new Uint8Array(32).fill(Number(next % 256n));
      const note = noteFor(origin, next, root);
      const r = await store.compareAndSet(origin, size, { size: next, root, note, cosigned: note + PAD, updatedAt: Date.now() });
      if (!r.ok) {
        process.stderr.write(`unexpected CAS failure for ${origin} at ${size}\n`);
        process.exit(3);
      }
      size = next;
      process.stdout.write(`ack ${origin} ${size}\n`);
    }
  }),
);
