// Reads a file that must stay small (a config, a log list), refusing it once it exceeds max
// bytes: a regular file by its size before anything is read, anything else (/dev/zero, a pipe)
// after max + 1 bytes. Memory use is bounded by max whatever the path names.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { GossipWitnessError } from '../errors.js';

export class FileTooLargeError extends GossipWitnessError {
  constructor(
    readonly path: string,
    readonly max: number,
  ) {
    super({ code: 'BAD_INPUT', message: `larger than ${max} bytes` });
    this.name = 'FileTooLargeError';
  }
}

const CHUNK = 64 * 1024;

export function readFileCappedSync(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.size > max) throw new FileTooLargeError(path, max);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, max + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > max) throw new FileTooLargeError(path, max);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

export async function readFileCapped(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.isFile() && st.size > max) throw new FileTooLargeError(path, max);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, max + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) throw new FileTooLargeError(path, max);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await fh.close();
  }
}
