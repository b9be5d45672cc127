/**
 * RestoreStream: a kopia snapshot streams into the stdin of a command run in a pod. The command is framed as
 * `head -c <size> | <command>`, so it sees the end of its input after exactly the snapshot's bytes: real
 * kubelets deliver stdin's end, kwok's exec never does, and the framing works on both.
 */
import { PassThrough } from 'node:stream';
import { execInPod, tail } from '../kube/exec.ts';
import { listSnapshots } from '../kopia/repository.ts';
import { spawnKopia } from '../kopia/kopia.ts';
import { STREAM_FILE } from './BackupStream.ts';
import { repositoryFor, resolveEndpoint, shellQuote } from './exec-target.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

export const RestoreStream: CairnFunction = {
  name: 'RestoreStream',
  async run(context) {
    const { args, kube, heartbeat, signal } = context;
    const endpoint = await resolveEndpoint(context);
    const repository = await repositoryFor(context);
    const snapshotID = String(args.snapshotID);
    const snapshot = (await listSnapshots(repository)).find((s) => s.id === snapshotID);
    if (!snapshot) throw new PermanentFunctionError(`no snapshot ${snapshotID} in repository ${repository.application}`);

    const kopia = spawnKopia(repository.session, ['show', `${snapshot.rootObject}/${STREAM_FILE}`]);
    let kopiaErr = '';
    kopia.stderr!.on('data', (chunk: Buffer) => (kopiaErr = (kopiaErr + chunk.toString('utf8')).slice(-8192)));
    const kopiaDone = new Promise<number>((resolve) => kopia.once('close', (code) => resolve(code ?? 1)));
    const stdin = new PassThrough();
    let bytes = 0;
    let lastBeat = 0;
    kopia.stdout!.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (Date.now() - lastBeat > 1000) {
        lastBeat = Date.now();
        heartbeat({ bytes, totalBytes: snapshot.size });
      }
    });
    kopia.stdout!.pipe(stdin);
    const framed = ['sh', '-c', `head -c ${snapshot.size} | ${endpoint.command.map(shellQuote).join(' ')}`];
    const result = await execInPod(kube().config, { ...endpoint, command: framed, stdin, signal }).finally(() => kopia.kill('SIGKILL'));
    const kopiaCode = await kopiaDone;
    if (result.exitCode !== 0) {
      throw new Error(`restore command exited ${result.exitCode} in ${endpoint.namespace}/${endpoint.pod} after ${bytes} of ${snapshot.size} bytes${result.stderr ? `; stderr:\n${tail(result.stderr)}` : ''}`);
    }
    if (bytes < snapshot.size && kopiaCode !== 0) throw new Error(`kopia could not read snapshot ${snapshotID}: ${tail(kopiaErr, 5)}`);
    return { bytes: snapshot.size };
  },
};
