// A floor for issue 14's CPU comparison, NOT a witness to run: the least a Node.js add-checkpoint
// server can do per request with this project's parsing and crypto: node:http (no framework),
// one Ed25519 log signature verified, the consistency proof checked, one cosignature signed, the
// new state written to one file and fdatasync()ed on the libuv pool, no logger, no metrics, no
// LevelDB, no journal, no core. bench/witness-http.bench.ts --floor runs it beside serve and
// sigsum-witness, so that the gap to sigsum-witness splits into what Node.js itself costs (this
// floor) and what gossip-witness adds to it.
//
// With --store (bench/witness-http.bench.ts --floor-store) it stores as serve's LevelDB store does
// instead: the cosigned note in one synced LevelDB batch, then one record appended to a journal
// opened O_DSYNC (what src/store/level.ts and src/store/highwater.ts do, without their checks).
//
//   node --import tsx bench/floor-witness.ts <dir> <log vkey> [--store]   (prints "listening <url> <vkey>")
import '../src/platform.js';
import { createServer } from 'node:http';
import { open } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseAddCheckpointBody } from '../src/witness/request.js';
import { openNote, parseVkey, ed25519KeyFromSeed, cosigner, signatureLines } from '../src/note/index.js';
import { parseCheckpoint } from '../src/checkpoint/checkpoint.js';
import { verifyConsistency } from '../src/merkle/proof.js';

const [dir, logVkey] = process.argv.slice(2);
if (!dir || !logVkey) throw new Error('usage: floor-witness.ts <dir> <log vkey>');
const log = parseVkey(logVkey);
const key = ed25519KeyFromSeed('floor.example/witness', randomBytes(32));
const signer = cosigner(key);
const STORE = process.argv.includes('--store');
const file = await open(join(dir, 'state'), STORE ? fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND | fsConstants.O_DSYNC : 'w');
const db = STORE ? new ClassicLevel<string, string>(join(dir, 'db')) : undefined;
await db?.open();
let size = 0n;
let root: Uint8Array = new Uint8Array(32);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const body = parseAddCheckpointBody(Buffer.concat(chunks));
        const note = openNote(body.note, [log]);
        const c = parseCheckpoint(note.text);
        if (body.oldSize !== size) {
          res.writeHead(409, { 'content-type': 'text/x.tlog.size' }).end(`${size}\n`);
          return;
        }
        if (size !== 0n && !verifyConsistency(size, c.size, root, c.root, body.proof)) {
          res.writeHead(422).end('bad proof\n');
          return;
        }
        const lines = signatureLines(note.textBytes, [signer]);
        const state = Buffer.from(`${c.size}\n${Buffer.from(c.root).toString('base64')}\n`);
        if (db) {
          await db.batch([{ type: 'put', key: 'state', value: Buffer.concat([state, note.textBytes, Buffer.from('\n' + lines)]).toString('utf8') }], { sync: true });
          await file.write(state);
        } else {
          await file.write(state, 0, state.length, 0);
          await file.datasync();
        }
        size = c.size;
        root = c.root;
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(lines);
      } catch (e) {
        res.writeHead(400).end(`${(e as Error).message}\n`);
      }
    })();
  });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  if (typeof a !== 'object' || a === null) throw new Error('no address');
  console.log(`listening http://127.0.0.1:${a.port} ${signer.vkey}`);
});
process.on('SIGTERM', () => {
  server.close();
  void Promise.all([file.close(), db?.close()]).then(() => process.exit(0));
});
