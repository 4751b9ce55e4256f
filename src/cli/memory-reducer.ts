// V8's memory reducer is what gives start-up garbage back once a process goes idle: some seconds
// after allocation slows down it runs memory-reducing full collections (old-space garbage freed,
// new space shrunk, pooled pages released). Since V8 13.1 (Node 24 and 26) it never starts in a
// process that allocates nothing on the C++ heap (cppgc): that allocation rate reads exactly 0,
// which V8 takes for "high allocation" (Heap::ComputeMutatorUtilizationImpl), so at every 8 s tick
// it logs "high alloc" and waits again; its 100 s watchdog only counts from a previous full GC,
// and an idle witness after start-up has had none. Upstream: crbug.com/570738027,
// nodejs/node#66564. Node core allocates on cppgc in one place, node:vm (ContextifyScript), so
// compiling a trivial vm.Script now and then gives the reducer the small non-zero rate it needs.
// Measured (BENCHMARKS.md, "Idle RSS on Node 20, 24, 26"): serve's anonymous RSS 60 s after
// start 25.8 -> 19.8 MiB on Node 24 and 26 (the V8 heap 20 -> 14 MiB).
// Costs one tiny compile (a compilation-cache hit after the first) per interval; on V8 before 13.1
// (Node 20, 22) it does nothing.
import { Script } from 'node:vm';

/** True for V8 13.1 and later, whose memory reducer needs the nudge. */
export function memoryReducerNeedsNudge(v8Version: string = process.versions.v8): boolean {
  const [major = 0, minor = 0] = v8Version.split('.').map(Number);
  return major > 13 || (major === 13 && minor >= 1);
}

/**
 * Keeps V8's memory reducer working in an idle process (see above): one vm.Script now, then one
 * every `intervalMs` on an unref'd timer. Returns a function that stops it.
 */
export function nudgeMemoryReducer(intervalMs = 30_000, v8Version: string = process.versions.v8): () => void {
  if (!memoryReducerNeedsNudge(v8Version)) return () => {};
  const nudge = (): void => {
    new Script('0');
  };
  nudge();
  const timer = setInterval(nudge, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
