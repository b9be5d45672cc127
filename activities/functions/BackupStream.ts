/**
 * BackupStream: the stdout of a command run in a pod (a database dump) streams straight into a kopia
 * snapshot, never staged on disk. The snapshot is tagged with the run and phase, so a retried attempt that
 * finds its snapshot complete returns it instead of dumping again.
 */
import { Transform } from 'node:stream';
import { execInPod, tail } from '../kube/exec.ts';
import { listSnapshots, repositoryBytes } from '../kopia/repository.ts';
import { spawnKopia } from '../kopia/kopia.ts';
import { repositoryFor, resolveEndpoint } from './exec-target.ts';
import type { CairnFunction } from './types.ts';

export const STREAM_FILE = 'stream';

export const BackupStream: CairnFunction = {
  name: 'BackupStream',
  async run(context) {
    const { args, kube, heartbeat, signal, resourceName, log } = context;
    const endpoint = await resolveEndpoint(context);
    const repository = await repositoryFor(context);
    const runTag = `cairn-phase:${resourceName('stream')}`;
    const previous = (await listSnapshots(repository, runTag))[0];
    if (previous) {
      log('snapshot of an earlier attempt found; not streaming again', { snapshotID: previous.id });
      return { snapshotID: previous.id, logicalBytes: previous.size, storedBytes: 0 };
    }

    const bytesBefore = await repositoryBytes(repository);
    const source = `cairn@${endpoint.namespace}:/${String(args.path ?? `${endpoint.pod}/${endpoint.container}`).replace(/^\/+/, '')}`;
    const tagArgs = [`--tags`, runTag];
    for (const [key, value] of Object.entries((args.tags ?? {}) as Record<string, string>)) tagArgs.push('--tags', `${key}:${value}`);
    const kopia = spawnKopia(repository.session, ['snapshot', 'create', '--json', '--stdin-file', STREAM_FILE, '--override-source', source, ...tagArgs, '-'], ['pipe', 'pipe', 'pipe']);
    let kopiaOut = '';
    let kopiaErr = '';
    kopia.stdout!.on('data', (chunk: Buffer) => (kopiaOut += chunk.toString('utf8')));
    kopia.stderr!.on('data', (chunk: Buffer) => (kopiaErr = (kopiaErr + chunk.toString('utf8')).slice(-8192)));
    const kopiaDone = new Promise<number>((resolve) => kopia.once('close', (code) => resolve(code ?? 1)));

    let bytes = 0;
    let lastBeat = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (Date.now() - lastBeat > 1000) {
          lastBeat = Date.now();
          heartbeat({ bytes });
        }
        callback(null, chunk);
      },
    });
    counter.pipe(kopia.stdin!);
    const result = await execInPod(kube().config, { ...endpoint, stdout: counter, signal }).catch((error: Error) => {
      kopia.kill('SIGKILL');
      throw error;
    });
    if (result.exitCode !== 0) {
      // Killing kopia before it sees the end of its input leaves no snapshot behind: no partial backup.
      kopia.kill('SIGKILL');
      await kopiaDone;
      throw new Error(`command exited ${result.exitCode} in ${endpoint.namespace}/${endpoint.pod} (${endpoint.container}) after ${bytes} bytes${result.stderr ? `; stderr:\n${tail(result.stderr)}` : ''}`);
    }
    counter.end();
    const code = await kopiaDone;
    if (code !== 0) throw new Error(`kopia snapshot create failed (exit ${code}): ${tail(kopiaErr, 5)}`);
    const manifest = JSON.parse(kopiaOut) as { id: string };
    heartbeat({ bytes, snapshotID: manifest.id });
    // Growth of the repository: after deduplication and compression; approximate when runs share it.
    return { snapshotID: manifest.id, logicalBytes: bytes, storedBytes: Math.max(0, (await repositoryBytes(repository)) - bytesBefore) };
  },
};
