// A port for a process that will listen on it later (the launcher writes it into configs before it
// starts the witnesses; tests start PostgreSQL or sigsum-witness on it). Bound and released, it is
// free only until someone else takes it. Taking it with listen(0) made that race real: the kernel
// hands out the same ephemeral range to every outgoing connect() of every process, and with test
// files running side by side (vitest workers, each with node processes dialling each other) a
// released ephemeral port was taken by a connection before the witness listened (EADDRINUSE in
// CI). So the port comes from below the ephemeral range, where no connect() and no listen(0) ever
// lands, at random, checked by binding it, and never handed out twice by this process.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest port picked outside the ephemeral range (below it: well-known and registered services). */
export const LOW = 20_000;
/** Ports this process has handed out (never twice, even once released). */
const handedOut = new Set<number>();

/** The first port of Linux's ephemeral range, or undefined where it cannot be read (not Linux). */
export function ephemeralRangeStart(file = '/proc/sys/net/ipv4/ip_local_port_range'): number | undefined {
  try {
    const lo = Number(readFileSync(file, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(lo) && lo > 0 && lo <= 65535 ? lo : undefined;
  } catch {
    return undefined;
  }
}

/** Binds host:port (0: any) and releases it; the port, or undefined if it could not be bound. */
function tryBind(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ port, host, exclusive: true }, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * A TCP port on `host` that nothing listens on now, outside the kernel's ephemeral range where
 * there is room for it (at least 1,000 ports below that range), and not handed out before by this
 * process. Elsewhere: a port the kernel picks (listen(0)), with the race that implies.
 */
export async function freePort(host = '127.0.0.1', random: () => number = Math.random): Promise<number> {
  const hi = ephemeralRangeStart();
  if (hi !== undefined && hi - LOW >= 1000) {
    for (let i = 0; i < 100; i++) {
      const p = LOW + Math.floor(random() * (hi - LOW));
      if (handedOut.has(p)) continue;
      if ((await tryBind(p, host)) !== undefined) {
        handedOut.add(p);
        return p;
      }
    }
  }
  for (let i = 0; i < 100; i++) {
    const p = await tryBind(0, host);
    if (p !== undefined && !handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
  throw new Error(`no free TCP port found on ${host}`);
}
