// Unit tests of the pod runtime's pure parts: what a pod spec turns into on this machine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { CriLineSplitter, criTimestamp, MAX_ENTRY_BYTES } from './cri-log.ts';
import { imageRepository } from './databases/engine.ts';
import { databaseEngineFor } from './databases/index.ts';
import { initialSql } from './databases/mariadb.ts';
import { serverOptions } from './databases/postgresql.ts';
import { LoopbackIpAllocator, preferredLoopbackIp } from './loopback-ip.ts';
import { mountScript, overlaysFor, type PathProbe } from './mount-view.ts';
import { containerEnv, ContainerConfigError, type EnvSources, expandReferences } from './pod-env.ts';
import { podPhase, statusPatch, type ContainerRecord } from './pod-status.ts';
import { containerMounts, hostPathFor } from './pod-volumes.ts';
import { hostsFile, type PlayedPod, serviceLinkEnv } from './service-directory.ts';

const base64 = (text: string) => Buffer.from(text).toString('base64');

describe('CRI log lines', () => {
  it('writes one full entry per line, keeps an unfinished line until flush, and splits long lines into partials', () => {
    const entries: string[] = [];
    const at = new Date('2026-11-21T23:50:00.123Z');
    const splitter = new CriLineSplitter('stdout', (entry) => entries.push(entry), () => at);
    splitter.write('one\ntw');
    splitter.write('o\nthree');
    splitter.flush();
    splitter.write('x'.repeat(MAX_ENTRY_BYTES + 5));
    splitter.flush();
    assert.deepEqual(entries.slice(0, 3), [
      '2026-11-21T23:50:00.123000000Z stdout F one\n',
      '2026-11-21T23:50:00.123000000Z stdout F two\n',
      '2026-11-21T23:50:00.123000000Z stdout F three\n',
    ]);
    assert.match(entries[3]!, / stdout P x{16384}\n$/);
    assert.equal(entries[4], '2026-11-21T23:50:00.123000000Z stdout F xxxxx\n');
    assert.equal(criTimestamp(at), '2026-11-21T23:50:00.123000000Z');
  });
});

describe('pod environment', () => {
  const sources: EnvSources = {
    secret: async (_ns, name) => (name === 'db' ? { data: { password: base64('s3cret'), user: base64('app') } } : undefined),
    configMap: async (_ns, name) => (name === 'settings' ? { data: { MODE: 'demo', LEVEL: 'info' } } : undefined),
  };
  const pod: k8s.V1Pod = { metadata: { name: 'api-0', namespace: 'shop', uid: 'u1', labels: { app: 'api' } }, spec: { containers: [], nodeName: 'kwok-node-0' } };

  it('applies envFrom, then env in order, with Secrets, ConfigMaps, the downward API and $(VAR) references', async () => {
    const container: k8s.V1Container = {
      name: 'api',
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'APP_' }],
      env: [
        { name: 'APP_MODE', value: 'override' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'DB_URL', value: 'postgres://$(DB_USER):$(DB_PASSWORD)@db' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'absent', key: 'x', optional: true } } },
      ],
    };
    const env = await containerEnv(pod, container, sources, { podIp: '127.70.0.5', hostIp: '127.0.0.1' });
    assert.deepEqual(env, {
      APP_MODE: 'override',
      APP_LEVEL: 'info',
      DB_PASSWORD: 's3cret',
      DB_URL: 'postgres://$(DB_USER):s3cret@db',
      POD_IP: '127.70.0.5',
      APP: 'api',
    });
  });

  it('refuses a missing required Secret key, as the kubelet does (CreateContainerConfigError)', async () => {
    const container: k8s.V1Container = { name: 'api', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'db', key: 'nope' } } }] };
    await assert.rejects(containerEnv(pod, container, sources, { podIp: '', hostIp: '' }), ContainerConfigError);
  });

  it('expands $$ to a literal dollar', () => {
    assert.equal(expandReferences('$$(HOME) and $(A)', { A: 'a' }), '$(HOME) and a');
  });
});

describe('mount view', () => {
  const probe = (existing: string[], files: string[] = []): PathProbe => ({
    exists: (path) => existing.includes(path) || files.includes(path),
    isFile: (path) => files.includes(path),
  });

  it('overlays the deepest existing ancestor of a missing mount point, but never /', () => {
    const host = probe(['/', '/var', '/var/lib', '/var/lib/postgresql', '/etc', '/etc/hosts']);
    assert.deepEqual(overlaysFor(['/var/lib/postgresql/data', '/data/x', '/etc/hosts'], host), ['/var/lib/postgresql']);
  });

  it('mounts parents before children and ends as the namespace holder', () => {
    const host = probe(['/', '/var', '/var/lib', '/tmp'], ['/state/hosts', '/etc/hosts']);
    const script = mountScript(
      {
        overlayRoot: '/state/overlay',
        binds: [
          { source: '/vol/b', target: '/var/lib/db/sub', readOnly: true },
          { source: '/vol/a', target: '/var/lib/db', readOnly: false },
          { source: '/state/hosts', target: '/etc/hosts', readOnly: false },
        ],
      },
      host,
    );
    const lines = script.trim().split('\n');
    assert.equal(lines[0], 'set -e');
    assert.match(script, /mount -t overlay overlay -o 'lowerdir=\/var\/lib,upperdir=\/state\/overlay\/0\/upper,workdir=\/state\/overlay\/0\/work' '\/var\/lib'/);
    // Sources are opened first (fds 10, 11, 12 in target depth order), so no target can hide a later source.
    assert.ok(script.indexOf("exec 11<'/vol/a'") < script.indexOf('mount -t overlay'));
    assert.ok(script.indexOf("mount --no-canonicalize --bind /proc/self/fd/11 '/var/lib/db'") < script.indexOf("mount --no-canonicalize --bind /proc/self/fd/12 '/var/lib/db/sub'"));
    assert.match(script, /exec 10<&- 11<&- 12<&-\n/);
    assert.match(script, /mount -o remount,bind,ro '\/var\/lib\/db\/sub'/);
    assert.match(script, /\[ -e '\/etc\/hosts' \] \|\|/);
    assert.deepEqual(lines.slice(-2), ['echo ready', 'exec sleep infinity']);
  });
});

describe('volumes', () => {
  it('maps a container path to the host directory of the deepest mount holding it', () => {
    const container: k8s.V1Container = {
      name: 'db',
      volumeMounts: [
        { name: 'data', mountPath: '/var/lib/postgresql/data' },
        { name: 'conf', mountPath: '/etc/app', subPath: 'app' },
      ],
    };
    const mounts = containerMounts(container, [
      { name: 'data', hostPath: '/csi/volumes/pvc-1', volumeHandle: 'pvc-1' },
      { name: 'conf', hostPath: '/pods/p/volumes/conf' },
    ]);
    assert.equal(mounts[1]!.hostPath, '/pods/p/volumes/conf/app');
    assert.equal(hostPathFor('/var/lib/postgresql/data/pgdata', mounts), '/csi/volumes/pvc-1/pgdata');
    assert.equal(hostPathFor('/var/lib/postgresql/data', mounts), '/csi/volumes/pvc-1');
    assert.equal(hostPathFor('/var/lib/postgresql', mounts), undefined);
  });
});

describe('service names', () => {
  const pods: PlayedPod[] = [
    { namespace: 'shop', name: 'postgres-0', ip: '127.80.1.2', labels: { app: 'postgres' }, hostname: 'postgres-0', subdomain: 'postgres', ready: true },
    { namespace: 'shop', name: 'api-x', ip: '127.80.1.3', labels: { app: 'api' }, ready: true },
    { namespace: 'other', name: 'postgres-0', ip: '127.80.1.4', labels: { app: 'postgres' }, ready: true },
  ];
  const services: k8s.V1Service[] = [
    { metadata: { name: 'postgres', namespace: 'shop' }, spec: { clusterIP: 'None', selector: { app: 'postgres' }, ports: [{ port: 5432, targetPort: 5432 }] } },
    { metadata: { name: 'postgres', namespace: 'other' }, spec: { selector: { app: 'postgres' }, ports: [{ port: 5432 }] } },
  ];

  it('resolves short names in the own namespace, qualified names everywhere, and StatefulSet pod names', () => {
    const hosts = hostsFile(pods[1]!, services, pods);
    assert.match(hosts, /^127\.80\.1\.2\tpostgres\.shop\.svc\.cluster\.local postgres\.shop\.svc postgres\.shop postgres$/m);
    assert.match(hosts, /^127\.80\.1\.4\tpostgres\.other\.svc\.cluster\.local postgres\.other\.svc postgres\.other$/m);
    assert.match(hosts, /^127\.80\.1\.2\tpostgres-0\.postgres\.shop\.svc\.cluster\.local/m);
    assert.match(hosts, /^127\.80\.1\.3\tapi-x$/m);
  });

  it('gives the kubelet-style service variables for the pod namespace', () => {
    assert.deepEqual(serviceLinkEnv('shop', services, pods), { POSTGRES_SERVICE_HOST: '127.80.1.2', POSTGRES_SERVICE_PORT: '5432' });
  });
});

describe('pod phase and status', () => {
  const finished = (exitCode: number): ContainerRecord => ({
    name: 'c',
    image: 'busybox',
    restartCount: 0,
    ready: false,
    state: { kind: 'terminated', exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: new Date(0), finishedAt: new Date(1) },
  });

  it('is Succeeded or Failed only when nothing restarts', () => {
    assert.equal(podPhase('Never', [finished(0)]), 'Succeeded');
    assert.equal(podPhase('Never', [finished(0), finished(2)]), 'Failed');
    assert.equal(podPhase('OnFailure', [finished(0)]), 'Succeeded');
    assert.equal(podPhase('OnFailure', [finished(1)]), 'Running');
    assert.equal(podPhase(undefined, [finished(0)]), 'Running');
  });

  it('reports the exit code in the container status and drops readiness', () => {
    const patch = statusPatch({ spec: { containers: [], restartPolicy: 'Never' } }, [finished(3)]);
    assert.equal(patch.status.phase, 'Failed');
    assert.equal(patch.status.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
    assert.equal(patch.status.conditions?.find((condition) => condition.type === 'Ready')?.status, 'False');
  });
});

describe('database images', () => {
  it('recognises database images by repository name, not sidecars next to them', () => {
    assert.equal(imageRepository('docker.io/library/postgres:16.4@sha256:abc'), 'postgres');
    assert.equal(databaseEngineFor('bitnami/postgresql:15')?.name, 'postgresql');
    assert.equal(databaseEngineFor('mysql:8.0')?.name, 'mariadb');
    assert.equal(databaseEngineFor('mariadb:10.11')?.name, 'mariadb');
    assert.equal(databaseEngineFor('redis:7')?.name, 'redis');
    assert.equal(databaseEngineFor('registry.k8s.io/etcd:3.5.15-0')?.name, 'etcd');
    assert.equal(databaseEngineFor('prometheuscommunity/postgres-exporter:v0.15.0'), undefined);
    assert.equal(databaseEngineFor('busybox:1.36'), undefined);
  });

  it('passes postgres options after the program name to the server', () => {
    assert.deepEqual(serverOptions(['docker-entrypoint.sh', 'postgres', '-c', 'fsync=off']), ['-c', 'fsync=off']);
    assert.deepEqual(serverOptions(['postgres']), []);
  });

  it('sets up MySQL users and database the way the images do, quoting values', () => {
    const sql = initialSql({ MYSQL_ROOT_PASSWORD: "r'oot", MYSQL_DATABASE: 'shop', MYSQL_USER: 'app', MYSQL_PASSWORD: 'pw' });
    assert.match(sql, /ALTER USER 'root'@'localhost' IDENTIFIED BY 'r\\'oot';/);
    assert.match(sql, /CREATE DATABASE IF NOT EXISTS `shop`;/);
    assert.match(sql, /GRANT ALL ON `shop`\.\* TO 'app'@'%';/);
  });
});

describe('loopback addresses', () => {
  it('gives a pod the same address back after it is gone, and another pod a different one', () => {
    const ips = new LoopbackIpAllocator();
    const first = ips.allocate('shop', 'postgres-0', 'uid-1');
    assert.equal(first, preferredLoopbackIp('shop', 'postgres-0'));
    assert.match(first, /^127\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+$/);
    const rival = ips.allocate('shop', 'postgres-0', 'uid-2');
    assert.notEqual(rival, first);
    ips.release(first, 'uid-1');
    assert.equal(ips.allocate('shop', 'postgres-0', 'uid-3'), first);
  });
});
