/** Waits `ms`, or rejects as soon as the activity is cancelled (with `cancelledMessage` when given). */
export function pause(ms: number, signal: AbortSignal, cancelledMessage?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cancelled = () => reject(cancelledMessage ? new Error(cancelledMessage) : signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
    if (signal.aborted) return cancelled();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      cancelled();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
