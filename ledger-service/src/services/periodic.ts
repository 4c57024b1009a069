// A background job on a timer: rounds never overlap (each waits for the previous one), a failed round is logged
// and the next one runs as usual, and stop() waits for the round in flight. `isStopped` lets a long round end early.

export function startPeriodic(
  intervalMs: number,
  logger: { error: (object: object, message: string) => void },
  failure: string,
  round: (isStopped: () => boolean) => Promise<void>,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const isStopped = () => stopped;
  const timer = setInterval(() => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        await round(isStopped);
      } catch (error) {
        logger.error({ err: error }, failure);
      }
    });
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
