import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeleteData, listArg } from '../../activities/functions/DeleteData.ts';
import { RestoreData } from '../../activities/functions/RestoreData.ts';
import { absolutePathArg, tarCreateCommand, tarExtractScript } from '../../activities/functions/tar-archive.ts';
import { PermanentFunctionError, type FunctionContext } from '../../activities/functions/types.ts';
import { artifactPathOf, artifactSource, isUnderArtifactPath } from '../../activities/kopia/snapshots.ts';
import type { JsonObject } from '../../src/json.ts';

// The argument and path rules of the data functions, which decide what is backed up, restored and deleted.
describe('artifact paths', () => {
  it('name one path however the prefix is written', () => {
    assert.equal(artifactPathOf('bucket/apps/tree/'), '/bucket/apps/tree');
    assert.equal(artifactPathOf('/bucket//apps/./tree'), '/bucket/apps/tree');
    assert.equal(artifactPathOf(''), '/');
    assert.equal(artifactSource('shop', 'bucket/db'), 'cairn@shop:/bucket/db');
  });

  it('contain their own subpaths but not siblings that share a prefix of letters', () => {
    assert.ok(isUnderArtifactPath('/a/b', 'a/b'));
    assert.ok(isUnderArtifactPath('/a/b/c', 'a/b/'));
    assert.ok(!isUnderArtifactPath('/a/bc', 'a/b'));
    assert.ok(!isUnderArtifactPath('/a', 'a/b'));
  });
});

describe('tar commands', () => {
  it('archive a path with members relative to /, so restorePath / puts it back in place', () => {
    assert.deepEqual(tarCreateCommand('/data/tree'), ['tar', '-c', '-f', '-', '-C', '/', 'data/tree']);
    assert.deepEqual(tarCreateCommand('/'), ['tar', '-c', '-f', '-', '-C', '/', '.']);
  });

  it('extract under a quoted restorePath, created first, with umask 0 and numeric owners, braced to follow a pipe', () => {
    assert.equal(tarExtractScript("/restore/it's here"), `{ mkdir -p '/restore/it'\\''s here' && umask 0 && tar -x --numeric-owner -f - -C '/restore/it'\\''s here'; }`);
  });

  it('take only absolute paths, normalised', () => {
    assert.equal(absolutePathArg('includePath', '/data//tree/'), '/data/tree');
    assert.equal(absolutePathArg('restorePath', '/'), '/');
    assert.throws(() => absolutePathArg('includePath', 'data'), (error: Error) => error instanceof PermanentFunctionError && /includePath must be an absolute path, got "data"/.test(error.message));
  });
});

describe('list arguments', () => {
  it("read Kanister's space-separated strings and YAML lists alike", () => {
    assert.deepEqual(listArg('a  b\tc'), ['a', 'b', 'c']);
    assert.deepEqual(listArg(['a', 'b']), ['a', 'b']);
    assert.deepEqual(listArg(undefined), []);
    assert.deepEqual(listArg(''), []);
  });
});

/** Enough of a context for the checks a function makes before it touches the cluster or the location. */
function argsOnly(args: JsonObject): FunctionContext {
  const unreachable = () => {
    throw new Error('the argument check should have failed before this');
  };
  return { args, template: {} as FunctionContext['template'], kube: unreachable, heartbeat: () => {}, previousHeartbeat: undefined, signal: new AbortController().signal, resourceName: unreachable, log: () => {} };
}

describe('argument checks made before anything runs', () => {
  it('DeleteData wants exactly one of backupID and backupTag, and one prefix or one per item', async () => {
    await assert.rejects(DeleteData.run(argsOnly({ namespace: 'n', backupArtifactPrefix: 'p' })), /give exactly one of backupID and backupTag/);
    await assert.rejects(DeleteData.run(argsOnly({ namespace: 'n', backupArtifactPrefix: 'p', backupID: 'a', backupTag: 'b' })), /give exactly one of backupID and backupTag/);
    await assert.rejects(DeleteData.run(argsOnly({ namespace: 'n', backupArtifactPrefix: 'p q', backupID: 'a b c' })), /backupArtifactPrefix has 2 entries for 3 backupID entries/);
  });

  it('RestoreData wants exactly one of pod and volumes, one of backupIdentifier and backupTag, and an absolute restorePath', async () => {
    await assert.rejects(RestoreData.run(argsOnly({ namespace: 'n', backupArtifactPrefix: 'p', backupTag: 't' })), /give exactly one of pod and volumes/);
    await assert.rejects(RestoreData.run(argsOnly({ namespace: 'n', backupArtifactPrefix: 'p', pod: 'x', backupTag: 't', backupIdentifier: 'i' })), /give exactly one of backupIdentifier and backupTag/);
    await assert.rejects(RestoreData.run(argsOnly({ namespace: 'n', backupArtifactPrefix: 'p', volumes: { c: '/m' }, backupTag: 't', restorePath: 'rel' })), /restorePath must be an absolute path/);
  });
});
