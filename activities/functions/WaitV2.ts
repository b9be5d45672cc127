/**
 * WaitV2: polls the referenced objects until `conditions.anyOf` (one holds) or `conditions.allOf` (all hold),
 * or fails when `timeout` has passed, naming each condition that does not hold and the values it last saw.
 * Conditions are in Cairn's condition language (docs/wait-conditions.md); Kanister's Go-template forms that map
 * onto it are translated. The deadline is kept in the heartbeat, so a retried attempt waits only for what is
 * left of it rather than for a whole new timeout.
 */
import { parseDuration } from '../../src/duration.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/json.ts';
import { apiErrorMessage, statusCodeOf } from '../../src/kube/dynamic.ts';
import { describeConditionError, evaluateCondition, formatExpression, parseCondition, type Expression, type Observation } from '../../src/functions/wait-condition.ts';
import { describeTarget, resolveReference, type ObjectTarget } from './object-ref.ts';
import { pause } from './pause.ts';
import { PermanentFunctionError, type CairnFunction, type FunctionContext } from './types.ts';

const POLL_MS = 1000;
const SHOWN_VALUE_CHARS = 120;

interface WatchedCondition {
  target: ObjectTarget;
  expression: Expression;
  /** The condition as Cairn writes it (a translated Go template shows its translation). */
  text: string;
}

interface ConditionState {
  holds: boolean;
  /** `$.status.phase = "Pending"`, `object not found`, or the error that prevented reading it. */
  observed: string;
}

export const WaitV2: CairnFunction = {
  name: 'WaitV2',
  async run(context) {
    const { args, heartbeat, signal } = context;
    const timeoutMs = parseDuration(String(args.timeout));
    if (!timeoutMs) throw new PermanentFunctionError(`args.timeout must be a duration longer than zero such as 90s or 5m, not "${String(args.timeout)}"`);
    const conditions = isJsonObject(args.conditions) ? args.conditions : {};
    const mode = Array.isArray(conditions.anyOf) ? 'anyOf' : Array.isArray(conditions.allOf) ? 'allOf' : undefined;
    if (!mode) throw new PermanentFunctionError('args.conditions needs anyOf or allOf, a list of {condition, objectReference}');
    const watched = await watchedConditions(context, mode, conditions[mode] as JsonValue[]);
    const previous = isJsonObject(context.previousHeartbeat) ? context.previousHeartbeat.deadline : undefined;
    const deadline = typeof previous === 'number' ? previous : Date.now() + timeoutMs;

    for (;;) {
      const states = await Promise.all(watched.map((condition) => observe(context, condition)));
      const done = mode === 'anyOf' ? states.some((s) => s.holds) : states.every((s) => s.holds);
      heartbeat({
        deadline,
        mode,
        conditions: watched.map((condition, index) => ({ object: describeTarget(condition.target), condition: condition.text, holds: states[index]!.holds, observed: states[index]!.observed })),
      });
      if (done) return {};
      if (Date.now() >= deadline) {
        const pending = watched.flatMap((condition, index) => (states[index]!.holds ? [] : [`${describeTarget(condition.target)}: ${condition.text} (observed ${states[index]!.observed})`]));
        throw new Error(`timed out after ${String(args.timeout)} waiting for ${mode === 'anyOf' ? 'any' : 'all'} of the conditions; not holding:\n${pending.join('\n')}`);
      }
      await pause(Math.max(0, Math.min(POLL_MS, deadline - Date.now())), signal, `cancelled while waiting for ${mode} conditions`);
    }
  },
};

async function watchedConditions(context: FunctionContext, mode: string, entries: JsonValue[]): Promise<WatchedCondition[]> {
  if (entries.length === 0) throw new PermanentFunctionError(`args.conditions.${mode} is empty`);
  return Promise.all(
    entries.map(async (entry, index) => {
      const at = `args.conditions.${mode}[${index}]`;
      if (!isJsonObject(entry) || typeof entry.condition !== 'string') throw new PermanentFunctionError(`${at} needs condition and objectReference`);
      const parsed = parseCondition(entry.condition);
      if (!parsed.ok) throw new PermanentFunctionError(`${at}.condition does not parse: ${describeConditionError(entry.condition, parsed.error)}`);
      const target = await resolveReference(context.kube().dynamic, entry.objectReference, `${at}.objectReference`, context.template.Namespace);
      return { target, expression: parsed.expression, text: formatExpression(parsed.expression) };
    }),
  );
}

async function observe(context: FunctionContext, condition: WatchedCondition): Promise<ConditionState> {
  const { target } = condition;
  let object: JsonObject | undefined;
  try {
    object = await context.kube().dynamic.get(target.resource, target.name, target.namespace);
  } catch (error) {
    // Kanister keeps waiting through errors reading the object; so does Cairn, reporting the last one on timeout.
    if (statusCodeOf(error) !== 404) return { holds: false, observed: `an error reading the object: ${apiErrorMessage(error).split('\n')[0]}` };
  }
  const evaluation = evaluateCondition(condition.expression, object);
  if (!object) return { holds: evaluation.holds, observed: 'object not found' };
  return { holds: evaluation.holds, observed: evaluation.observed.map((o) => shown(o, target.resource.kind === 'Secret')).join(', ') || 'no fields read' };
}

function shown(observation: Observation, secret: boolean): string {
  if (observation.value === undefined) return `${observation.path} missing`;
  if (secret && !observation.path.startsWith('$.metadata')) return `${observation.path} = (a Secret's value, not shown)`;
  const text = JSON.stringify(observation.value);
  return `${observation.path} = ${text.length > SHOWN_VALUE_CHARS ? `${text.slice(0, SHOWN_VALUE_CHARS)}…` : text}`;
}
