import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, JsonPatchError, JsonPatchTestFailed, parsePointer } from '../../../src/application/resources/json-patch.ts';
import type { JsonValue } from '../../../src/json.ts';

// Examples from RFC 6902 appendix A, plus the error cases a transform author meets.
describe('RFC 6902 JSON Patch', () => {
  it('adds an object member and inserts into an array (A.1, A.2)', () => {
    assert.deepEqual(applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }]), { foo: 'bar', baz: 'qux' });
    assert.deepEqual(applyJsonPatch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }]), { foo: ['bar', 'qux', 'baz'] });
  });

  it('appends with "-" and replaces the whole document with path ""', () => {
    assert.deepEqual(applyJsonPatch({ a: [1] }, [{ op: 'add', path: '/a/-', value: 2 }]), { a: [1, 2] });
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }]), { b: 2 });
  });

  it('removes members and array elements (A.3, A.4)', () => {
    assert.deepEqual(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }]), { foo: 'bar' });
    assert.deepEqual(applyJsonPatch({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }]), { foo: ['bar', 'baz'] });
  });

  it('replaces, moves and copies (A.5, A.6, A.7)', () => {
    assert.deepEqual(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }]), { baz: 'boo', foo: 'bar' });
    assert.deepEqual(
      applyJsonPatch({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }]),
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    );
    assert.deepEqual(applyJsonPatch({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }]), { foo: ['all', 'cows', 'eat', 'grass'] });
    assert.deepEqual(applyJsonPatch({ a: { b: [1] } }, [{ op: 'copy', from: '/a/b', path: '/c' }]), { a: { b: [1] }, c: [1] });
  });

  it('decodes ~0 and ~1 in pointers (annotation keys with slashes)', () => {
    assert.deepEqual(parsePointer('/metadata/annotations/example.com~1owner'), ['metadata', 'annotations', 'example.com/owner']);
    assert.deepEqual(parsePointer('/a~0b'), ['a~b']);
    const patched = applyJsonPatch({ metadata: { annotations: { 'example.com/owner': 'x' } } }, [{ op: 'remove', path: '/metadata/annotations/example.com~1owner' }]);
    assert.deepEqual(patched, { metadata: { annotations: {} } });
  });

  it('passes a matching test, compares deeply, and reports a failing test as JsonPatchTestFailed', () => {
    const document = { spec: { replicas: 3, ports: [{ port: 80 }] } };
    assert.deepEqual(applyJsonPatch(document, [{ op: 'test', path: '/spec/ports', value: [{ port: 80 }] }, { op: 'replace', path: '/spec/replicas', value: 1 }]), { spec: { replicas: 1, ports: [{ port: 80 }] } });
    assert.throws(() => applyJsonPatch(document, [{ op: 'test', path: '/spec/replicas', value: 2 }]), (e: Error) => e instanceof JsonPatchTestFailed && /operation 1 \(test \/spec\/replicas\)/.test(e.message));
  });

  it('never changes its input', () => {
    const document: JsonValue = { a: { b: 1 } };
    applyJsonPatch(document, [{ op: 'replace', path: '/a/b', value: 2 }]);
    assert.deepEqual(document, { a: { b: 1 } });
  });

  it('refuses missing targets, bad indexes and pointers, naming the operation', () => {
    const cases: Array<[JsonValue, Parameters<typeof applyJsonPatch>[1], RegExp]> = [
      [{ a: 1 }, [{ op: 'remove', path: '/b' }], /operation 1 \(remove \/b\): \/b does not exist/],
      [{ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }], /\/b does not exist/],
      [{ a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }], /out of range/],
      [{ a: [1] }, [{ op: 'add', path: '/a/x', value: 1 }], /not an array index/],
      [{ a: 1 }, [{ op: 'add', path: '/x/y', value: 1 }], /"x" does not exist/],
      [{ a: 1 }, [{ op: 'add', path: 'a', value: 1 }], /not a JSON pointer/],
      [{ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/c' }], /its own child/],
      [{ a: 1 }, [{ op: 'add', path: '/b' }], /needs a value/],
    ];
    for (const [document, operations, message] of cases) {
      assert.throws(() => applyJsonPatch(document, operations), (e: Error) => e instanceof JsonPatchError && message.test(e.message), JSON.stringify(operations));
    }
  });

  it('keeps a Secret value out of a failing test message', () => {
    assert.throws(
      () => applyJsonPatch({ data: { password: 'c2VjcmV0LXZhbHVl' } }, [{ op: 'test', path: '/data/password', value: 'other' }]),
      (e: Error) => !e.message.includes('c2VjcmV0LXZhbHVl') && /holds another value/.test(e.message),
    );
  });
});
