// Graceful shutdown for the long-running commands (serve, log serve, launch): the first SIGINT or
// SIGTERM runs close(); a second signal, or close() outlasting the deadline, exits at once with 1.
// Exit status 0 after a clean close. One helper so every command behaves the same under systemd
// (TimeoutStopSec) and docker stop.

/** The subset of pino's logger used here (launch passes a plain-text one). */
export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  info(msg: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  error(msg: string): void;
}

/** How long a graceful shutdown may take before the process exits anyway (below systemd's 90 s default and docker's 10 s grace). */
export const SHUTDOWN_DEADLINE_MS = 9_000;

/** Set to "1" by a parent that holds the child's stdin open for as long as the child should live. */
export const EXIT_WITH_STDIN_ENV = 'GOSSIP_WITNESS_EXIT_WITH_STDIN';

export function waitForShutdown(close: () => Promise<void>, logger: ShutdownLogger, deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        logger.error('graceful shutdown took too long; exiting');
        process.exit(1);
      }, deadlineMs);
      deadline.unref();
      close()
        .then(
          () => logger.info('stopped'),
          (e: unknown) => {
            logger.error({ err: e }, 'error during shutdown');
            process.exitCode = 1;
          },
        )
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          // Exit even if a library left a handle open.
          setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Children of the launcher (and of tests) get a pipe on stdin and this variable: the pipe
    // closes when the parent dies, even by SIGKILL, so no witness outlives whoever started it.
    if (process.env[EXIT_WITH_STDIN_ENV] === '1') {
      const onParentGone = () => {
        if (!stopping) onSignal('SIGTERM');
      };
      process.stdin.once('end', onParentGone).once('close', onParentGone).once('error', onParentGone);
      process.stdin.resume();
    }
  });
}
