/**
 * Wait (Kanister's deprecated predecessor of WaitV2, same args: `timeout`, `conditions.anyOf|allOf` of
 * `{condition, objectReference}`): runs WaitV2's implementation. Kanister's Wait conditions are Go templates
 * over `{$.jsonpath}` pieces; `cairn import-kanister` translates them into Cairn's condition language
 * (docs/wait-conditions.md), which is what this function evaluates.
 */
import type { CairnFunction } from './types.ts';
import { WaitV2 } from './WaitV2.ts';

export const Wait: CairnFunction = {
  name: 'Wait',
  run: (context) => WaitV2.run(context),
};
