import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { RunActionInput, RunActionResult, RunProgress } from '../../../src/run/types.ts';
import { phaseEvents, phaseTimeline, runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

const blueprint = (backupPhases: string, extra = '') => `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: run-test}
actions:
  backup:
    kinds: [StatefulSet]
${extra}    phases:
${backupPhases}
  restore:
    kinds: [StatefulSet]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;

let fixture: TemporalFixture;
let serving: RunningWorker;

before(async () => {
  serving = await runningWorker('run-action', { blueprintDirs: [join(import.meta.dirname, '../../fixtures/run-blueprints'), join(import.meta.dirname, '../../../blueprints')] });
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
});

let counter = 0;
function start(input: Omit<RunActionInput, 'target'> & { target?: string }) {
  counter += 1;
  return fixture.client.workflow.start('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${counter}`,
    args: [{ target: 'statefulset/shop/db', ...input }],
  });
}

describe('runAction interprets the plan', () => {
  it('runs phases in order, in parallel where dependsOn allows, and releases a group before later phases start', async () => {
    const handle = await start({
      action: 'backup',
      blueprint: {
        inline: blueprint(`      - name: cut
        phases:
          - {name: quiesce, func: Sleep, args: {duration: 300ms}}
          - {name: snapshot, func: Sleep, args: {duration: 300ms}}
        deferPhase: {name: unquiesce, func: Sleep, args: {duration: 100ms}}
      - {name: exportA, func: Sleep, args: {duration: 1500ms}}
      - {name: exportB, func: Sleep, dependsOn: [cut], args: {duration: 1500ms}}
      - {name: verify, func: Sleep, dependsOn: [exportA, exportB], args: {duration: 10ms}}`,
        `    outputArtifacts:
      slept: {keyValue: {a: "{{Phases.exportA.Output.sleptMs}}", b: "{{Phases.exportB.Output.sleptMs}}"}}
`),
      },
    });
    const result = (await handle.result()) as RunActionResult;
    assert.deepEqual(result.outputArtifacts, { slept: { KeyValue: { a: '1500', b: '1500' } } });
    const timeline = phaseTimeline(await handle.fetchHistory());
    const at = (event: string) => {
      const index = timeline.indexOf(event);
      assert.ok(index >= 0, `${event} in ${timeline.join(' ')}`);
      return index;
    };
    assert.deepEqual(timeline.slice(0, 6), ['scheduled:quiesce', 'completed:quiesce', 'scheduled:snapshot', 'completed:snapshot', 'scheduled:unquiesce', 'completed:unquiesce']);
    assert.ok(at('completed:unquiesce') < at('scheduled:exportA'), 'the group defer ends before the export starts');
    assert.ok(at('scheduled:exportB') < at('completed:exportA'), 'exportB starts while exportA still runs');
    assert.ok(at('scheduled:exportA') < at('completed:exportB'), 'exportA starts while exportB still runs');
    assert.ok(at('scheduled:verify') > Math.max(at('completed:exportA'), at('completed:exportB')));
    const progress = await handle.query<RunProgress>('progress');
    assert.ok(progress.phases.every((p) => p.state === 'succeeded'));
    assert.equal(progress.outcome, 'succeeded');
  });

  it('runs the defer phases after a failure, skips what depended on the failed phase, and names it', async () => {
    const handle = await start({
      action: 'backup',
      options: { badDuration: 'forever' },
      blueprint: {
        inline: blueprint(`      - name: cut
        phases:
          - {name: quiesce, func: Sleep, args: {duration: 10ms}}
          - {name: broken, func: Sleep, args: {duration: "{{Options.badDuration}}"}}
        deferPhase: {name: unquiesce, func: Sleep, args: {duration: 10ms}}
      - {name: export, func: Sleep, args: {duration: 10ms}}`,
          `    deferPhase: {name: finalCleanup, func: Sleep, args: {duration: 10ms}}
`),
      },
    });
    await assert.rejects(handle.result(), (error: WorkflowFailedError) => {
      assert.match(error.cause?.message ?? '', /failed in phase broken: phase broken \(Sleep\): args\.duration/);
      return true;
    });
    const history = await handle.fetchHistory();
    assert.deepEqual(phaseEvents(history, 'completed'), ['quiesce', 'unquiesce', 'finalCleanup']);
    assert.deepEqual(phaseEvents(history, 'failed'), ['broken']);
    assert.ok(!phaseEvents(history, 'scheduled').includes('export'));
    const progress = await handle.query<RunProgress>('progress');
    assert.deepEqual(progress.phases.map((p) => [p.id, p.state]), [
      ['quiesce', 'succeeded'], ['broken', 'failed'], ['unquiesce', 'succeeded'], ['export', 'skipped'], ['finalCleanup', 'succeeded'],
    ]);
    assert.equal(progress.outcome, 'failed');
  });

  it('still runs the defer phases when the run is cancelled mid-phase', async () => {
    const handle = await start({
      action: 'backup',
      blueprint: {
        inline: blueprint(`      - name: cut
        phases:
          - {name: quiesce, func: Sleep, args: {duration: 10ms}}
          - {name: longSnapshot, func: Sleep, args: {duration: 5m}}
        deferPhase: {name: unquiesce, func: Sleep, args: {duration: 10ms}}`,
          `    deferPhase: {name: finalCleanup, func: Sleep, args: {duration: 10ms}}
`),
      },
    });
    for (let i = 0; i < 100; i++) {
      const progress = await handle.query<RunProgress>('progress').catch(() => undefined);
      if (progress?.current.includes('longSnapshot')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    const history = await handle.fetchHistory();
    assert.deepEqual(phaseEvents(history, 'completed'), ['quiesce', 'unquiesce', 'finalCleanup']);
    assert.deepEqual(phaseEvents(history, 'canceled'), ['longSnapshot']);
  });

  it('refuses an invalid blueprint before any phase runs, with the line of the problem', async () => {
    const handle = await start({ action: 'backup', blueprint: { inline: blueprint('      - {name: a, func: Slep, args: {duration: 1s}}') } });
    await assert.rejects(handle.result(), (error: WorkflowFailedError) => {
      assert.match(String((error.cause?.cause as Error | undefined)?.message ?? error.cause?.message), /inline\.yaml:8:\d+: error: .*unknown function "Slep" \(did you mean "Sleep"\?\)/);
      return true;
    });
    assert.deepEqual(phaseEvents(await handle.fetchHistory(), 'scheduled'), []);
  });

  it('finds blueprints by name in the worker blueprint directories, and says where it looked when it cannot', async () => {
    const found = await start({ action: 'backup', blueprint: { name: 'sleepy' } });
    assert.equal(((await found.result()) as RunActionResult).plan.blueprint, 'sleepy');
    const missing = await start({ action: 'backup', blueprint: { name: 'no-such-blueprint' } });
    await assert.rejects(missing.result(), (error: WorkflowFailedError) => {
      assert.match(String((error.cause?.cause as Error | undefined)?.message ?? error.cause?.message), /no blueprint named "no-such-blueprint" in .*run-blueprints/);
      return true;
    });
  });

  it('marks runs with search attributes that find them in the Web UI', async () => {
    const target = `statefulset/shop/sa-${fixture.taskQueue}`;
    const handle = await start({ action: 'backup', target, blueprint: { inline: blueprint('      - {name: a, func: Sleep, args: {duration: 1ms}}') } });
    await handle.result();
    const description = await handle.describe();
    const key = (name: string) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);
    assert.equal(description.typedSearchAttributes.get(key('CairnBlueprint')), 'run-test');
    assert.equal(description.typedSearchAttributes.get(key('CairnTarget')), target);
    assert.equal(description.typedSearchAttributes.get(key('CairnNamespace')), 'shop');
    assert.equal(description.typedSearchAttributes.get(key('CairnOutcome')), 'succeeded');
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = [];
      for await (const run of fixture.client.workflow.list({ query: `CairnTarget = "${target}"` })) found.push(run.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(found, [handle.workflowId]);
  });

  it('runs a plan of 1,000 phases within history limits', async () => {
    const chains = 20;
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const chain = i % chains;
      const dependsOn = i < chains ? '[]' : `[p${i - chains}]`;
      lines.push(`      - {name: p${i}, func: Sleep, dependsOn: ${dependsOn}, args: {duration: 1ms}}`);
      void chain;
    }
    const handle = await start({ action: 'backup', blueprint: { inline: blueprint(lines.join('\n')) } });
    const result = (await handle.result()) as RunActionResult;
    assert.equal(result.plan.stepCount, 1000);
    assert.equal(Object.keys(result.phaseOutputs).length, 1000);
    const description = await handle.describe();
    assert.ok((description.historyLength ?? 0) < 20_000, `history has ${description.historyLength} events`);
  });
});
