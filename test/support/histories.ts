/**
 * The recorded workflow histories of test/fixtures/histories (test/support/record-histories.ts and the runs
 * named in test/integration/run/replay.test.ts), each with the workflow ID it ran under: replays must use it,
 * because child workflow IDs are derived from it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const HISTORIES_DIR = join(import.meta.dirname, '../fixtures/histories');

export interface RecordedHistory {
  workflowId: string;
  file: string;
  history: { events: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[] };
}

export async function recordedHistories(): Promise<RecordedHistory[]> {
  const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (file) => {
    const history = JSON.parse(await readFile(join(HISTORIES_DIR, file), 'utf8')) as RecordedHistory['history'];
    return { workflowId: history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file, file, history };
  }));
}

/** The fixture file a replay result's workflow ID came from, for failure messages. */
export function fileOf(histories: readonly RecordedHistory[], workflowId: string): string {
  return histories.find((h) => h.workflowId === workflowId)?.file ?? workflowId;
}
