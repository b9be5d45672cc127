import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { sleep, tcpOpen, waitUntil } from '../../../scripts/stack/process.ts';
import { ChildProcess, type ExitStatus } from './child-process.ts';
import { CriLogFile } from './cri-log.ts';
import { type DatabaseContext, type DatabaseEngine, databaseEngineFor, type DatabaseServer } from './databases/index.ts';
import { execObject, logsObject, putKwokObject, deleteKwokObject, type ContainerExec } from './kwok-objects.ts';
import type { BindMount } from './mount-view.ts';
import { startNamespaceHolder } from './namespace-holder.ts';
import { containerEnv, ContainerConfigError } from './pod-env.ts';
import { type ContainerRecord, restarts, statusPatch, terminationReason } from './pod-status.ts';
import { type ContainerMount, containerMounts, hostPathFor, type ResolvedVolume, resolveVolumes, VolumeNotReadyError } from './pod-volumes.ts';
import type { RuntimeServices } from './runtime-services.ts';
import { hostsFile, type PlayedPod, serviceLinkEnv } from './service-directory.ts';
import { imageEntrypoint } from './in-cluster.ts';

const HOST_IP = '127.0.0.1';

interface RunningContainer {
  spec: k8s.V1Container;
  record: ContainerRecord;
  holder?: ChildProcess;
  /** What building the mount view printed (mount errors). */
  holderLog?: CriLogFile;
  process?: ChildProcess;
  server?: DatabaseServer;
  mounts: ContainerMount[];
  log: CriLogFile;
}

/**
 * Plays the kubelet for one pod: resolves its volumes and env, builds each container's mount view, runs the
 * containers (or the real database server for a database image), publishes the kwok Exec and Logs objects,
 * reports container states and the final phase, and on deletion stops everything before letting the pod go
 * (the runtime's finalizer holds the pod object until then, as a real kubelet's graceful deletion would).
 */
export class PodWorker {
  readonly uid: string;
  readonly dir: string;
  played: PlayedPod | undefined;
  private readonly containers: RunningContainer[] = [];
  private volumes: ResolvedVolume[] = [];
  private releaseVolumes: () => void = () => undefined;
  private terminating: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private pod: k8s.V1Pod,
    private readonly services: RuntimeServices,
  ) {
    this.uid = pod.metadata!.uid!;
    const { namespace, name } = pod.metadata!;
    this.dir = join(services.podsDir, `${namespace}_${name}_${this.uid}`);
  }

  private get key(): string {
    return `${this.pod.metadata!.namespace}/${this.pod.metadata!.name}`;
  }

  private running: Promise<void> = Promise.resolve();

  start(): Promise<void> {
    this.running = this.run().catch((error: Error) => {
      if (!this.stopped) this.services.log(`${this.key}: ${error.stack ?? error}`);
    });
    return this.running;
  }

  private async run(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await this.services.addFinalizer(this.pod);
    const specs = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])];
    for (const spec of specs) {
      const log = new CriLogFile(join(this.dir, `${spec.name}.log`));
      this.containers.push({ spec, log, mounts: [], record: { name: spec.name, image: spec.image ?? '', restartCount: 0, ready: false, state: { kind: 'waiting', reason: 'ContainerCreating' } } });
    }
    this.volumes = await this.retryUntilReady('volumes', () =>
      resolveVolumes(this.pod, {
        sources: this.services.sources,
        csiVolumes: this.services.csi.volumes,
        podVolumes: join(this.dir, 'volumes'),
        addresses: { podIp: '0.0.0.0', hostIp: HOST_IP },
      }),
    );
    if (this.stopped) return;
    for (const container of this.containers) container.mounts = containerMounts(container.spec, this.volumes);
    // Two servers must never share a data directory: a StatefulSet pod's successor waits for its predecessor.
    const databaseHandles = this.containers
      .filter((container) => databaseEngineFor(container.spec.image))
      .flatMap((container) => container.mounts.flatMap((mount) => (mount.volumeHandle ? [mount.volumeHandle] : [])));
    this.releaseVolumes = await this.services.volumeLocks.acquire(databaseHandles);
    if (this.stopped) return;

    const { namespace, name } = this.pod.metadata!;
    const ip = this.services.ips.allocate(namespace!, name!, this.uid);
    this.played = {
      namespace: namespace!,
      name: name!,
      ip,
      labels: this.pod.metadata?.labels ?? {},
      ...(this.pod.spec?.hostname ? { hostname: this.pod.spec.hostname } : {}),
      ...(this.pod.spec?.subdomain ? { subdomain: this.pod.spec.subdomain } : {}),
      ready: false,
    };
    this.writeHostsFile();
    // kwok's pod-ready stage said Ready at scheduling time; until the containers run (a database answers) it is not.
    await this.services.waitForKwokRunning(this.uid);
    await this.reportStatus();
    await putKwokObject(
      this.services.custom,
      logsObject(this.pod, this.containers.map((container) => ({ container: container.spec.name, logsFile: container.log.path }))),
    );

    const execs: ContainerExec[] = [];
    const envs = new Map<RunningContainer, Record<string, string>>();
    for (const [index, container] of this.containers.entries()) {
      const env = await this.retryUntilReady(`env of ${container.spec.name}`, () => this.environment(container.spec, ip));
      if (this.stopped) return;
      envs.set(container, env);
      const engine = databaseEngineFor(container.spec.image);
      const runDir = join(this.services.socketsDir, `${this.uid.slice(0, 8)}-${index}`);
      mkdirSync(runDir, { recursive: true });
      const scratch = join(this.dir, container.spec.name);
      const tmp = join(scratch, 'tmp');
      mkdirSync(tmp, { recursive: true });
      chmodSync(tmp, 0o1777);
      if (engine) {
        container.server = await this.prepareServer(engine, {
          pod: this.pod,
          container: container.spec,
          env,
          mounts: container.mounts,
          ip,
          runDir,
          scratchDir: scratch,
          log: container.log,
          cacheDir: this.services.paths.cache,
        });
      }
      const binds: BindMount[] = [
        ...container.mounts.map((mount) => ({ source: mount.hostPath, target: mount.mountPath, readOnly: mount.readOnly })),
        { source: this.hostsPath, target: '/etc/hosts', readOnly: false },
        // A volume mounted at /tmp (MultiContainerRun's shared volume, by default) is the container's /tmp.
        ...(container.mounts.some((mount) => mount.mountPath.replace(/\/+$/, '') === '/tmp') ? [] : [{ source: tmp, target: '/tmp', readOnly: false }]),
        // A checkout (and its stack state) under /tmp would vanish behind that private /tmp, taking with it what
        // the pods of this stack use from the host: kando, the filesystem location, the CSI volumes.
        ...[this.services.paths.root, this.services.paths.state]
          .filter((dir, index, all) => /^\/tmp\//.test(dir) && !all.slice(0, index).some((earlier) => dir.startsWith(`${earlier}/`)))
          .map((dir) => ({ source: dir, target: dir, readOnly: false })),
        ...(container.server?.socketMountPath ? [{ source: runDir, target: container.server.socketMountPath, readOnly: false }] : []),
      ];
      // A subPath that does not exist yet is created as a directory, as the kubelet does.
      for (const mount of container.mounts) if (!existsSync(mount.hostPath)) mkdirSync(mount.hostPath, { recursive: true });
      container.holderLog = new CriLogFile(join(scratch, 'mount-view.log'));
      container.holder = await startNamespaceHolder({ binds, overlayRoot: join(scratch, 'overlay') }, container.holderLog, this.services.records);
      const workingDir = container.spec.workingDir ?? '/';
      execs.push({
        container: container.spec.name,
        workDir: hostPathFor(workingDir, container.mounts) ?? container.mounts[0]?.hostPath ?? scratch,
        env: {
          ...env,
          ...container.server?.execEnv,
          CAIRN_POD_MOUNT_NS_PID: String(container.holder.pid),
          CAIRN_POD_WORKDIR: workingDir,
          CAIRN_POD_VOLUMES: container.mounts.map((mount) => `${mount.mountPath}=${mount.hostPath}`).join(':'),
        },
      });
    }
    await putKwokObject(this.services.custom, execObject(this.pod, execs));

    const initContainers = this.containers.slice(0, this.pod.spec?.initContainers?.length ?? 0);
    for (const container of initContainers) {
      const exit = await this.runUntilDone(container, envs.get(container)!);
      if (exit.code !== 0 || this.stopped) {
        await this.reportStatus();
        return;
      }
    }
    const regular = this.containers.slice(initContainers.length);
    await Promise.all(regular.map((container) => this.runUntilDone(container, envs.get(container)!)));
    if (this.stopped) return;
    await this.reportStatus();
    // A completed pod cannot be exec'd into (the API server refuses): its mount views have no more use.
    for (const container of this.containers) await container.holder?.stop('SIGKILL', 5000);
  }

  private async prepareServer(engine: DatabaseEngine, context: DatabaseContext): Promise<DatabaseServer> {
    try {
      return await engine.prepare(context);
    } catch (error) {
      context.log.note(`cairn pod runtime: cannot prepare ${engine.name}: ${(error as Error).message}`);
      throw error;
    }
  }

  private get hostsPath(): string {
    return join(this.dir, 'hosts');
  }

  /** Rewritten in place (same inode), so the bind mounts on /etc/hosts see the new content. */
  writeHostsFile(): void {
    if (this.played === undefined || this.stopped) return;
    writeFileSync(this.hostsPath, hostsFile(this.played, this.services.servicesList(), this.services.playedPods()));
  }

  private async environment(spec: k8s.V1Container, ip: string): Promise<Record<string, string>> {
    const env = await containerEnv(this.pod, spec, this.services.sources, { podIp: ip, hostIp: HOST_IP });
    const links = this.pod.spec?.enableServiceLinks === false ? {} : serviceLinkEnv(this.pod.metadata!.namespace!, this.services.servicesList(), this.services.playedPods());
    return {
      PATH: this.services.podPath,
      HOME: '/root',
      ...this.services.apiServerEnv,
      HOSTNAME: this.pod.spec?.hostname ?? this.pod.metadata!.name!,
      ...links,
      ...env,
    };
  }

  /** Retries while a volume or config reference is not there yet (the kubelet keeps the container waiting). */
  private async retryUntilReady<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    let reported = '';
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof VolumeNotReadyError || error instanceof ContainerConfigError) || this.stopped) throw error;
        if (error.message !== reported) this.services.log(`${this.key}: waiting for ${what}: ${error.message}`);
        reported = error.message;
        await sleep(1000);
      }
    }
  }

  /** Runs the container, restarting it as the pod's restartPolicy says, until it stays terminated. */
  private async runUntilDone(container: RunningContainer, env: Record<string, string>): Promise<ExitStatus> {
    const isInit = (this.pod.spec?.initContainers ?? []).includes(container.spec);
    const policy = isInit && container.spec.restartPolicy !== 'Always' ? (this.pod.spec?.restartPolicy === 'Never' ? 'Never' : 'OnFailure') : this.pod.spec?.restartPolicy;
    let backoffMs = 1000;
    for (;;) {
      const startedAt = new Date();
      const exit = await this.runOnce(container, env);
      const finishedAt = new Date();
      const terminated = { exitCode: exit.code, reason: terminationReason(exit.code), startedAt, finishedAt };
      container.record.state = { kind: 'terminated', ...terminated, ...(exit.signal ? { signal: exit.signal } : {}) };
      if (this.stopped || !restarts(policy, exit.code)) return exit;
      container.record.lastTerminated = terminated;
      container.record.restartCount += 1;
      container.record.state = { kind: 'waiting', reason: 'CrashLoopBackOff' };
      await this.reportStatus();
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30_000);
      if (this.stopped) return exit;
    }
  }

  private async runOnce(container: RunningContainer, env: Record<string, string>): Promise<ExitStatus> {
    if (this.stopped) return { code: 137, signal: 'SIGKILL' };
    const server = container.server;
    const spec = server
      ? { argv: server.argv, env: server.env, uid: server.uid, gid: server.gid, stopSignal: server.stopSignal }
      : { argv: this.commandLine(container), env };
    const child = new ChildProcess({ ...spec, log: container.log }, this.services.records);
    container.process = child;
    const handles = container.mounts.flatMap((mount) => (mount.volumeHandle ? [mount.volumeHandle] : []));
    for (const handle of handles) this.services.writers.add(handle, child.pid);
    container.record.state = { kind: 'running', startedAt: new Date() };
    container.record.ready = false;
    if (server) {
      const ready = await Promise.race([
        waitUntil(`${this.key} ${container.spec.name} on ${this.played!.ip}:${server.port}`, () => tcpOpen(this.played!.ip, server.port), 120_000).then(() => true),
        child.exited.then(() => false),
      ]).catch((error: Error) => {
        container.log.note(`cairn pod runtime: ${error.message}`);
        return false;
      });
      if (ready) {
        await server.afterReady?.().catch((error: Error) => container.log.note(`cairn pod runtime: setup failed: ${error.message}`));
        this.markReady(container);
      }
    } else {
      this.markReady(container);
    }
    const exit = await child.exited;
    container.record.ready = false;
    container.log.stdout.flush();
    container.log.stderr.flush();
    for (const handle of handles) this.services.writers.remove(handle, child.pid);
    return exit;
  }

  /**
   * The image's entrypoint is unknown here, so `command` (else `args`) is what runs, in the container's mount
   * view. An image given neither runs `sleep infinity`: the pod stays Running, as most servers would.
   */
  private commandLine(container: RunningContainer): string[] {
    const spec = container.spec;
    const entrypoint = imageEntrypoint(spec.image);
    const command = spec.command?.length
      ? [...spec.command, ...(spec.args ?? [])]
      : entrypoint
        ? [...entrypoint, ...(spec.args ?? [])]
        : spec.args?.length ? spec.args : ['sleep', 'infinity'];
    return ['nsenter', `--target=${container.holder!.pid}`, '--mount', `--wdns=${spec.workingDir ?? '/'}`, '--', ...command];
  }

  /** Ready (and reported so) once every container runs and every database answers, again after a restart. */
  private markReady(container: RunningContainer): void {
    container.record.ready = true;
    const regular = this.containers.slice(this.pod.spec?.initContainers?.length ?? 0);
    if (!this.played || !regular.every((each) => each.record.ready && each.record.state.kind === 'running')) return;
    if (!this.played.ready) {
      this.played.ready = true;
      this.services.directoryChanged();
    }
    void this.reportStatus();
  }

  private async reportStatus(): Promise<void> {
    const current = this.services.currentPod(this.uid) ?? this.pod;
    if (current.metadata?.deletionTimestamp) return;
    const regular = this.containers.slice(this.pod.spec?.initContainers?.length ?? 0);
    const patch = statusPatch(current, regular.map((container) => container.record));
    const initFailed = this.containers.some(
      (container) => !regular.includes(container) && container.record.state.kind === 'terminated' && container.record.state.exitCode !== 0,
    );
    if (initFailed && this.pod.spec?.restartPolicy === 'Never') patch.status.phase = 'Failed';
    await this.services.patchStatus(current, patch).catch((error: Error) => this.services.log(`${this.key}: status patch failed: ${error.message}`));
  }

  /** Stops the containers (databases cleanly), removes the pod's traces, and lets the pod object go. */
  terminate(graceSeconds: number): Promise<void> {
    this.terminating ??= this.stopAll(graceSeconds);
    return this.terminating;
  }

  private async stopAll(graceSeconds: number): Promise<void> {
    this.stopped = true;
    if (this.played) this.played.ready = false;
    this.services.directoryChanged();
    await this.stopProcesses(graceSeconds);
    // run() notices `stopped` at its next step and starts nothing more; what it started meanwhile stops here.
    await this.running;
    await this.stopProcesses(graceSeconds);
    for (const container of this.containers) {
      container.log.close();
      container.holderLog?.close();
    }
    if (this.played) this.services.ips.release(this.played.ip, this.uid);
    this.releaseVolumes();
    await Promise.all([deleteKwokObject(this.services.custom, 'Exec', this.pod), deleteKwokObject(this.services.custom, 'Logs', this.pod)]).catch(
      (error: Error) => this.services.log(`${this.key}: could not delete kwok objects: ${error.message}`),
    );
    rmSync(this.dir, { recursive: true, force: true });
    for (const index of this.containers.keys()) rmSync(join(this.services.socketsDir, `${this.uid.slice(0, 8)}-${index}`), { recursive: true, force: true });
  }

  private async stopProcesses(graceSeconds: number): Promise<void> {
    await Promise.all(
      this.containers.map(async (container) => {
        const process = container.process;
        if (process?.running) {
          const server = container.server;
          await process.stop(server ? server.stopSignal : 'SIGTERM', server ? server.stopTimeoutMs : graceSeconds * 1000);
        }
        if (container.holder?.running) await container.holder.stop('SIGKILL', 5000);
      }),
    );
  }
}
