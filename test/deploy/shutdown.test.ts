// The shared shutdown path of serve, log serve and launch (src/cli/shutdown.ts): the first signal
// closes and exits 0; a second signal, or a close that outlasts the deadline, exits 1 at once.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../gossip/helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A process waiting in waitForShutdown; close() takes closeMs (-1: never finishes). */
function start(closeMs: number, deadlineMs: number) {
  const code = `
    import { waitForShutdown } from './src/cli/shutdown.ts';
    const log = { info: (a, m) => console.log(typeof a === 'string' ? a : m), warn: (a, m) => console.log(m), error: (a, m) => console.log(typeof a === 'string' ? a : m) };
    const close = () => new Promise((r) => { console.log('closing'); if (${closeMs} >= 0) setTimeout(r, ${closeMs}); });
    setInterval(() => {}, 1000); // something that would keep the process alive
    // 'ready' only once the signal handlers are in (waitForShutdown installs them when called): a
    // SIGTERM sent between the two would otherwise kill the process by default (seen in CI).
    const done = waitForShutdown(close, log, ${deadlineMs});
    console.log('ready');
    await done;`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  return { child, out: () => out, exited };
}

describe('waitForShutdown', () => {
  it('SIGTERM: closes, logs "stopped" and exits 0', async () => {
    const p = start(100, 5000);
    await waitFor(() => p.out().includes('ready'), 'ready', 20_000);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toMatch(/shutting down\nclosing\nstopped\n/);
  }, 30_000);

  it('a second signal while closing exits 1 at once', async () => {
    const p = start(-1, 60_000);
    await waitFor(() => p.out().includes('ready'), 'ready', 20_000);
    p.child.kill('SIGINT');
    await waitFor(() => p.out().includes('closing'), 'closing', 10_000);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(1);
    expect(p.out()).toContain('second signal: exiting now');
  }, 30_000);

  it('with GOSSIP_WITNESS_EXIT_WITH_STDIN=1, a parent killed outright (SIGKILL) takes the child with it', async () => {
    // middle spawns the waiting process with a stdin pipe (as src/launcher does), prints its pid, and is then SIGKILLed.
    const inner = `import { waitForShutdown } from './src/cli/shutdown.ts';
      const log = { info: (a, m) => console.log(typeof a === 'string' ? a : m), warn: (a, m) => console.log(m), error: (a, m) => console.log(typeof a === 'string' ? a : m) };
      setInterval(() => {}, 1000);
      const done = waitForShutdown(async () => {}, log, 5000);
      console.log('ready');
      await done;`;
    const middle = `
      import { spawn } from 'node:child_process';
      const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ${JSON.stringify('${inner}')}.slice(0) ], { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, GOSSIP_WITNESS_EXIT_WITH_STDIN: '1' } });
      console.log('child ' + c.pid);
      setInterval(() => {}, 1000);`.replace('"${inner}"', JSON.stringify(inner));
    const child = spawn(process.execPath, ['--input-type=module', '-e', middle], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitFor(() => out.includes('ready'), 'grandchild ready', 20_000);
    const pid = Number(/child (\d+)/.exec(out)![1]);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    child.kill('SIGKILL');
    await waitFor(() => !alive(), 'grandchild gone after its parent was killed', 15_000);
  }, 40_000);

  it('a close that outlasts the deadline exits 1', async () => {
    const p = start(-1, 300);
    await waitFor(() => p.out().includes('ready'), 'ready', 20_000);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(1);
    expect(p.out()).toContain('graceful shutdown took too long; exiting');
  }, 30_000);
});
