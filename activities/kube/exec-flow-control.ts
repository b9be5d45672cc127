/**
 * Backpressure for exec streams. client-node's Exec writes every websocket message into stdout without
 * looking at `write()`'s answer, and sends every stdin chunk without looking at the socket's buffer: a
 * consumer slower than the pod (kopia writing a dump) or a pod slower than the producer (kopia reading a
 * snapshot) would buffer the difference in the worker's memory. Here the socket stops reading while stdout
 * needs draining, and stdin stops flowing while the socket has much unsent data.
 */
import type { Readable, Writable } from 'node:stream';

/** The part of a `ws` WebSocket this needs (client-node's Exec resolves to one). */
export interface FlowControlledSocket {
  pause(): void;
  resume(): void;
  readonly bufferedAmount: number;
  on(event: 'message' | 'close', listener: () => void): unknown;
}

/** Unsent bytes the socket may hold before stdin is paused. */
const STDIN_HIGH_WATER = 8 * 1024 * 1024;
const STDIN_POLL_MS = 5;

export function applyFlowControl(socket: FlowControlledSocket, stdout: Writable | undefined, stdin: Readable | undefined): void {
  if (stdout) {
    let paused = false;
    // Registered after client-node's own handler, so it runs once the message has been written to stdout.
    socket.on('message', () => {
      if (paused || !stdout.writableNeedDrain) return;
      paused = true;
      socket.pause();
      stdout.once('drain', () => {
        paused = false;
        socket.resume();
      });
    });
  }
  if (stdin) {
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      timer = undefined;
      if (socket.bufferedAmount > STDIN_HIGH_WATER) {
        stdin.pause();
        // ws has no drain event of its own; its buffer is small to poll.
        timer = setTimeout(check, STDIN_POLL_MS);
      } else {
        stdin.resume();
      }
    };
    stdin.on('data', () => {
      if (timer === undefined && socket.bufferedAmount > STDIN_HIGH_WATER) check();
    });
    socket.on('close', () => {
      if (timer) clearTimeout(timer);
    });
  }
}
