/**
 * Runs a command in a container through the API server's exec endpoint and returns its output and exit
 * code. Reads the exit code both from a real kubelet (reason NonZeroExitCode, cause ExitCode) and from kwok
 * (reason InternalError, message "... exit status N").
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { applyFlowControl, type FlowControlledSocket } from './exec-flow-control.ts';

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin?: Readable;
  /** Receives stdout as it arrives; when absent stdout is collected into the result. */
  stdout?: Writable;
  signal?: AbortSignal;
  /** Called for each chunk of output (for heartbeats). */
  onData?: (bytes: number) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  message?: string;
}

const TAIL_BYTES = 64 * 1024;

export async function execInPod(config: k8s.KubeConfig, request: ExecRequest): Promise<ExecResult> {
  const stdoutSink = request.stdout ?? new PassThrough();
  const stderrSink = new PassThrough();
  let stdout = '';
  let stderr = '';
  if (!request.stdout) stdoutSink.on('data', (chunk: Buffer) => {
    stdout = keepTail(stdout + chunk.toString('utf8'));
    request.onData?.(chunk.length);
  });
  stderrSink.on('data', (chunk: Buffer) => {
    stderr = keepTail(stderr + chunk.toString('utf8'));
  });
  const exec = new k8s.Exec(config);
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    const finish = (result: ExecResult | Error) => {
      if (settled) return;
      settled = true;
      if (result instanceof Error) reject(result);
      else resolve({ ...result, stdout, stderr });
    };
    exec
      .exec(request.namespace, request.pod, request.container, request.command, stdoutSink, stderrSink, request.stdin ?? null, false, (status) => {
        finish({ exitCode: exitCodeOf(status), stdout, stderr, ...(status.message ? { message: status.message } : {}) });
      })
      .then((socket) => {
        applyFlowControl(socket as unknown as FlowControlledSocket, request.stdout, request.stdin);
        request.signal?.addEventListener('abort', () => {
          socket.close();
          finish(new Error('exec cancelled'));
        }, { once: true });
        socket.on('close', () => {
          // Give the status frame a moment; some servers close right after sending it.
          setTimeout(() => finish(new Error(`exec in ${request.namespace}/${request.pod} ended without a status${stderr ? `: ${tail(stderr)}` : ''}`)), 200);
        });
        socket.on('error', (error: Error) => finish(error));
      })
      .catch((error: unknown) => finish(describeExecError(error, request)));
  });
}

export function exitCodeOf(status: k8s.V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message && /^\d+$/.test(cause.message)) return Number(cause.message);
  const kwok = /exit status (\d+)/.exec(status.message ?? '');
  if (kwok) return Number(kwok[1]);
  return 1;
}

function describeExecError(error: unknown, request: ExecRequest): Error {
  const text = error instanceof Error ? error.message : String(error);
  if (/404|not found/i.test(text)) return new Error(`pod ${request.namespace}/${request.pod} not found`);
  return new Error(`exec in ${request.namespace}/${request.pod} (${request.container}) failed: ${text}`);
}

function keepTail(text: string): string {
  return text.length > TAIL_BYTES ? text.slice(-TAIL_BYTES) : text;
}

/** The last lines of an output, for error messages. */
export function tail(text: string, lines = 10): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
