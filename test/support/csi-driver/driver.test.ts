import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { csiLayout, type CsiLayout, snapshotDir, volumeDir } from './layout.ts';
import { csiProtoFromModuleCache, loadCsiPackage, serviceClient } from './proto.ts';
import { type CsiDriver, startCsiDriver } from './server.ts';

type Message = Record<string, any>;
type Call = (request: Message) => Promise<Message>;
type Method =
  | 'GetPluginInfo'
  | 'GetPluginCapabilities'
  | 'Probe'
  | 'ControllerGetCapabilities'
  | 'CreateVolume'
  | 'DeleteVolume'
  | 'ValidateVolumeCapabilities'
  | 'CreateSnapshot'
  | 'DeleteSnapshot'
  | 'ListSnapshots'
  | 'GroupControllerGetCapabilities'
  | 'CreateVolumeGroupSnapshot'
  | 'DeleteVolumeGroupSnapshot'
  | 'GetVolumeGroupSnapshot';
type Client = Record<Method, Call>;

/** The generated client's callback methods as promises. */
function promisifyClient(client: grpc.Client): Client {
  return new Proxy({} as Client, {
    get: (_target, method: string) => (request: Message) =>
      new Promise<Message>((resolveCall, rejectCall) =>
        (client as any)[method](request, (error: grpc.ServiceError | null, response: Message) =>
          error ? rejectCall(error) : resolveCall(response),
        ),
      ),
  });
}

const mount = [{ mount: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } }];
const oneGiB = { required_bytes: String(1024 ** 3) };

describe('test-side CSI driver over its unix socket', () => {
  let layout: CsiLayout;
  let driver: CsiDriver;
  let identity: Client;
  let controller: Client;
  let groups: Client;

  before(async () => {
    layout = csiLayout(mkdtempSync(join(tmpdir(), 'cairn-csi-')));
    const proto = csiProtoFromModuleCache();
    driver = await startCsiDriver(layout, proto);
    const csi = loadCsiPackage(proto);
    const credentials = grpc.credentials.createInsecure();
    identity = promisifyClient(new (serviceClient(csi, 'Identity'))(driver.endpoint, credentials));
    controller = promisifyClient(new (serviceClient(csi, 'Controller'))(driver.endpoint, credentials));
    groups = promisifyClient(new (serviceClient(csi, 'GroupController'))(driver.endpoint, credentials));
  });

  after(async () => {
    await driver.stop();
    rmSync(layout.root, { recursive: true, force: true });
  });

  it('identifies itself as csi.cairn.dev with controller and group controller services', async () => {
    assert.equal((await identity.GetPluginInfo({})).name, 'csi.cairn.dev');
    const plugin = await identity.GetPluginCapabilities({});
    assert.deepEqual(plugin.capabilities.map((c: Message) => c.service.type), ['CONTROLLER_SERVICE', 'GROUP_CONTROLLER_SERVICE']);
    const groupCaps = await groups.GroupControllerGetCapabilities({});
    assert.deepEqual(groupCaps.capabilities.map((c: Message) => c.rpc.type), ['CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT']);
    assert.equal((await identity.Probe({})).ready.value, true);
    const controllerCaps = await controller.ControllerGetCapabilities({});
    const types = controllerCaps.capabilities.map((c: Message) => c.rpc.type);
    for (const wanted of ['CREATE_DELETE_VOLUME', 'CREATE_DELETE_SNAPSHOT', 'LIST_SNAPSHOTS', 'CLONE_VOLUME']) {
      assert.ok(types.includes(wanted), wanted);
    }
  });

  it('creates a volume as a directory, once per name', async () => {
    const first = await controller.CreateVolume({ name: 'pvc-a', capacity_range: oneGiB, volume_capabilities: mount });
    const again = await controller.CreateVolume({ name: 'pvc-a', capacity_range: oneGiB, volume_capabilities: mount });
    assert.equal(first.volume.volume_id, 'pvc-a');
    assert.deepEqual(again.volume, first.volume);
    assert.equal(first.volume.capacity_bytes, String(1024 ** 3));
    assert.equal(first.volume.volume_context.path, volumeDir(layout, 'pvc-a'));
    assert.ok(statSync(volumeDir(layout, 'pvc-a')).isDirectory());
    await assert.rejects(
      controller.CreateVolume({ name: 'pvc-a', capacity_range: { required_bytes: '5' }, volume_capabilities: mount }),
      { code: grpc.status.ALREADY_EXISTS },
    );
  });

  it('refuses block volumes and unknown sources', async () => {
    await assert.rejects(
      controller.CreateVolume({ name: 'pvc-block', volume_capabilities: [{ block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } }] }),
      { code: grpc.status.INVALID_ARGUMENT },
    );
    await assert.rejects(
      controller.CreateVolume({ name: 'pvc-x', volume_capabilities: mount, volume_content_source: { snapshot: { snapshot_id: 'snapshot-nope' } } }),
      { code: grpc.status.NOT_FOUND },
    );
    await assert.rejects(
      controller.CreateSnapshot({ name: 'snapshot-x', source_volume_id: 'pvc-nope' }),
      { code: grpc.status.NOT_FOUND },
    );
  });

  it('snapshots a volume, restores it into a new volume and clones the volume', async () => {
    const volume = volumeDir(layout, 'pvc-a');
    mkdirSync(join(volume, 'data'));
    writeFileSync(join(volume, 'data', 'hello.txt'), 'hello from pvc-a\n');
    const { snapshot } = await controller.CreateSnapshot({ name: 'snapshot-a', source_volume_id: 'pvc-a', parameters: { tier: 'x' } });
    assert.equal(snapshot.snapshot_id, 'snapshot-a');
    assert.equal(snapshot.source_volume_id, 'pvc-a');
    assert.equal(snapshot.ready_to_use, true);
    assert.equal(snapshot.size_bytes, String(1024 ** 3), 'the minimum size to restore into: the source capacity');
    const record = JSON.parse(readFileSync(join(layout.snapshots, 'snapshot-a.json'), 'utf8'));
    assert.equal(record.dataBytes, 'hello from pvc-a\n'.length);
    assert.ok(Math.abs(Number(snapshot.creation_time.seconds) - Date.now() / 1000) < 60);
    assert.deepEqual((await controller.CreateSnapshot({ name: 'snapshot-a', source_volume_id: 'pvc-a' })).snapshot, snapshot);

    writeFileSync(join(volume, 'data', 'hello.txt'), 'changed after the snapshot\n');
    const restored = await controller.CreateVolume({
      name: 'pvc-from-snapshot',
      capacity_range: oneGiB,
      volume_capabilities: mount,
      volume_content_source: { snapshot: { snapshot_id: 'snapshot-a' } },
    });
    assert.equal(restored.volume.content_source.snapshot.snapshot_id, 'snapshot-a');
    assert.equal(readFileSync(join(volumeDir(layout, 'pvc-from-snapshot'), 'data', 'hello.txt'), 'utf8'), 'hello from pvc-a\n');

    const clone = await controller.CreateVolume({
      name: 'pvc-clone',
      volume_capabilities: mount,
      volume_content_source: { volume: { volume_id: 'pvc-a' } },
    });
    assert.equal(clone.volume.content_source.volume.volume_id, 'pvc-a');
    assert.equal(readFileSync(join(volumeDir(layout, 'pvc-clone'), 'data', 'hello.txt'), 'utf8'), 'changed after the snapshot\n');
  });

  it('keeps owners and modes in snapshots (a PostgreSQL data directory must stay 0700 and its user’s)', { skip: process.getuid?.() !== 0 }, async () => {
    await controller.CreateVolume({ name: 'pvc-owned', volume_capabilities: mount });
    const data = join(volumeDir(layout, 'pvc-owned'), 'pgdata');
    mkdirSync(data);
    writeFileSync(join(data, 'PG_VERSION'), '15\n');
    chownSync(data, 4242, 4343);
    chownSync(join(data, 'PG_VERSION'), 4242, 4343);
    chmodSync(data, 0o700);
    await controller.CreateSnapshot({ name: 'snapshot-owned', source_volume_id: 'pvc-owned' });
    await controller.CreateVolume({
      name: 'pvc-owned-restored',
      volume_capabilities: mount,
      volume_content_source: { snapshot: { snapshot_id: 'snapshot-owned' } },
    });
    const restored = statSync(join(volumeDir(layout, 'pvc-owned-restored'), 'pgdata'));
    assert.equal(restored.uid, 4242);
    assert.equal(restored.gid, 4343);
    assert.equal(restored.mode & 0o777, 0o700);
  });

  it('lists snapshots by ID, by source volume and page by page', async () => {
    await controller.CreateSnapshot({ name: 'snapshot-a2', source_volume_id: 'pvc-a' });
    const byId = await controller.ListSnapshots({ snapshot_id: 'snapshot-a' });
    assert.deepEqual(byId.entries.map((e: Message) => e.snapshot.snapshot_id), ['snapshot-a']);
    assert.deepEqual((await controller.ListSnapshots({ snapshot_id: 'snapshot-none' })).entries, []);
    const bySource = await controller.ListSnapshots({ source_volume_id: 'pvc-a' });
    assert.deepEqual(bySource.entries.map((e: Message) => e.snapshot.snapshot_id), ['snapshot-a', 'snapshot-a2']);
    const page1 = await controller.ListSnapshots({ source_volume_id: 'pvc-a', max_entries: 1 });
    const page2 = await controller.ListSnapshots({ source_volume_id: 'pvc-a', max_entries: 1, starting_token: page1.next_token });
    assert.deepEqual([page1.entries[0].snapshot.snapshot_id, page2.entries[0].snapshot.snapshot_id], ['snapshot-a', 'snapshot-a2']);
    assert.equal(page2.next_token, '');
  });

  it('validates capabilities of existing volumes only', async () => {
    const ok = await controller.ValidateVolumeCapabilities({ volume_id: 'pvc-a', volume_capabilities: mount });
    assert.equal(ok.confirmed.volume_capabilities.length, 1);
    await assert.rejects(controller.ValidateVolumeCapabilities({ volume_id: 'pvc-nope', volume_capabilities: mount }), {
      code: grpc.status.NOT_FOUND,
    });
  });

  it('snapshots several volumes together as a group snapshot', async () => {
    for (const name of ['pvc-g1', 'pvc-g2']) {
      await controller.CreateVolume({ name, volume_capabilities: mount });
      writeFileSync(join(volumeDir(layout, name), 'name.txt'), name);
    }
    const request = { name: 'groupsnapshot-g', source_volume_ids: ['pvc-g2', 'pvc-g1'] };
    const { group_snapshot: group } = await groups.CreateVolumeGroupSnapshot(request);
    assert.equal(group.group_snapshot_id, 'groupsnapshot-g');
    assert.equal(group.ready_to_use, true);
    assert.deepEqual(group.snapshots.map((s: Message) => s.source_volume_id), ['pvc-g1', 'pvc-g2']);
    for (const snapshot of group.snapshots) {
      assert.equal(snapshot.group_snapshot_id, 'groupsnapshot-g');
      assert.equal(readFileSync(join(snapshotDir(layout, snapshot.snapshot_id), 'name.txt'), 'utf8'), snapshot.source_volume_id);
    }
    assert.deepEqual((await groups.CreateVolumeGroupSnapshot(request)).group_snapshot, group);
    assert.deepEqual((await groups.GetVolumeGroupSnapshot({ group_snapshot_id: 'groupsnapshot-g' })).group_snapshot, group);
    await assert.rejects(groups.CreateVolumeGroupSnapshot({ name: 'groupsnapshot-g', source_volume_ids: ['pvc-g1'] }), {
      code: grpc.status.ALREADY_EXISTS,
    });

    await groups.DeleteVolumeGroupSnapshot({ group_snapshot_id: 'groupsnapshot-g', snapshot_ids: group.snapshots.map((s: Message) => s.snapshot_id) });
    for (const snapshot of group.snapshots) assert.equal(existsSync(snapshotDir(layout, snapshot.snapshot_id)), false);
    await assert.rejects(groups.GetVolumeGroupSnapshot({ group_snapshot_id: 'groupsnapshot-g' }), { code: grpc.status.NOT_FOUND });
  });

  it('deletes snapshots and volumes with their directories, and deleting twice is fine', async () => {
    await controller.DeleteSnapshot({ snapshot_id: 'snapshot-a' });
    await controller.DeleteSnapshot({ snapshot_id: 'snapshot-a' });
    assert.equal(existsSync(snapshotDir(layout, 'snapshot-a')), false);
    assert.deepEqual((await controller.ListSnapshots({ snapshot_id: 'snapshot-a' })).entries, []);
    await controller.DeleteVolume({ volume_id: 'pvc-a' });
    await controller.DeleteVolume({ volume_id: 'pvc-a' });
    assert.equal(existsSync(volumeDir(layout, 'pvc-a')), false);
    // Other volumes are independent copies.
    assert.ok(existsSync(join(volumeDir(layout, 'pvc-from-snapshot'), 'data', 'hello.txt')));
  });
});
