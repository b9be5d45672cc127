/**
 * The generic phase runner: one activity per phase. It resolves the phase's Secrets and ConfigMaps itself,
 * builds the template context, renders and checks the arguments, and runs the function. Rendered values never
 * leave this activity: outputs and error messages are scrubbed of every Secret value before they reach
 * Temporal's history.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { JsonObject, JsonValue } from '../src/json.ts';
import type { KubeClients } from '../src/kube/clients.ts';
import type { PlanStep } from '../src/plan/types.ts';
import type { PhaseInvocation, PhaseResult } from '../src/run/types.ts';
import { parseTarget } from '../src/target.ts';
import type { TemplateContext } from '../src/template/context.ts';
import { renderString, renderValue, TemplateRenderError } from '../src/template/render.ts';
import { checkRenderedArgs } from '../src/functions/runtime-args.ts';
import { buildTemplateContext, readsTarget } from './context.ts';
import { profileSources, resolveProfile, type ProfileSources } from './location/profiles.ts';
import { attachProfile } from './location/run-profile.ts';
import { PermanentFunctionError, type CairnFunction } from './functions/types.ts';
import { Redactor } from './redact.ts';

export interface PhaseRunnerDeps {
  kube: () => KubeClients;
  functions: ReadonlyMap<string, CairnFunction>;
  /** Where location profiles are found; default from the environment (activities/location/profiles.ts). */
  profiles?: (kube: () => KubeClients) => ProfileSources;
}

export function resourceName(workflowId: string, phase: string, suffix: string): string {
  const hash = createHash('sha256').update(`${workflowId}/${phase}`).digest('hex').slice(0, 10);
  const clean = suffix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  return `cairn-${hash}-${clean}`.slice(0, 63).replace(/-+$/, '');
}

export function createRunPhase(deps: PhaseRunnerDeps) {
  return async function runPhase(input: PhaseInvocation): Promise<PhaseResult> {
    const activity = Context.current();
    const { step } = input;
    const redactor = new Redactor();
    const fail = (type: string, message: string, nonRetryable: boolean) =>
      ApplicationFailure.create({ type, message: redactor.text(message), nonRetryable });
    const target = parseTarget(input.target);
    if (!target.ok) throw fail('InvalidArguments', target.message, true);
    const implementation = deps.functions.get(step.func);
    if (!implementation) throw fail('InvalidArguments', `function ${step.func} is not implemented by this worker`, true);

    try {
      const template = await buildTemplateContext(
        {
          target: target.target,
          needsTarget: readsTarget([step.args, step.objects]),
          runTime: input.runTime,
          options: input.options,
          phaseOutputs: input.phaseOutputs,
          artifacts: input.artifacts,
        },
        deps.kube,
      );
      // The run's profile by name (default: the embedded location): its location, never credentials, in `Profile`.
      const profile = await resolveProfile(input.profile, (deps.profiles ?? profileSources)(deps.kube)).catch((error: Error) => {
        throw fail('InvalidArguments', `phase ${step.id}: ${error.message}`, true);
      });
      attachProfile(template, profile);
      redactor.allow([template.Namespace, template.Target.name, ...template.Target.pods]);
      await resolveObjects(step, template, deps.kube, redactor);
      const rendered = renderValue(step.args, template) as JsonObject;
      const checked = checkRenderedArgs(step.func, rendered);
      if (!checked.ok) throw fail('InvalidArguments', `phase ${step.id} (${step.func}): ${checked.problems.join('; ')}`, true);
      activity.log.info('phase started', { phase: step.id, func: step.func, attempt: activity.info.attempt });
      const outputs = await implementation.run({
        args: checked.args,
        template,
        application: input.application ?? template.Namespace,
        kube: deps.kube,
        heartbeat: (details?: JsonValue) => activity.heartbeat(details === undefined ? undefined : redactor.value(details)),
        previousHeartbeat: activity.info.heartbeatDetails as JsonValue | undefined,
        signal: activity.cancellationSignal,
        resourceName: (suffix) => resourceName(input.workflowId, step.id, suffix),
        log: (message, fields) => activity.log.info(redactor.text(message), { phase: step.id, ...fields }),
      });
      activity.log.info('phase succeeded', { phase: step.id, func: step.func });
      return { outputs: redactor.value(outputs) };
    } catch (error) {
      if (error instanceof ApplicationFailure || error instanceof CancelledFailure) throw error;
      if (activity.cancellationSignal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof TemplateRenderError) throw fail('TemplateRenderError', `phase ${step.id}: ${message}`, true);
      if (error instanceof PermanentFunctionError) throw fail('InvalidArguments', `phase ${step.id} (${step.func}): ${message}`, true);
      throw fail('PhaseError', `phase ${step.id} (${step.func}): ${message}`, false);
    }
  };
}

/** Reads the phase's own Secrets and ConfigMaps into `Phases.<self>`; every Secret value joins the redactor. */
async function resolveObjects(step: PlanStep, template: TemplateContext, kube: () => KubeClients, redactor: Redactor): Promise<void> {
  const own = { Output: {}, Secrets: {} as Record<string, Record<string, string>>, ConfigMaps: {} as Record<string, Record<string, string>> };
  template.Phases[step.id] = own;
  for (const [key, reference] of Object.entries(step.objects)) {
    const name = renderString(reference.name, template);
    const namespace = renderString(reference.namespace, template);
    try {
      if (reference.kind === 'Secret') {
        const secret = await kube().core.readNamespacedSecret({ name, namespace });
        const values: Record<string, string> = {};
        for (const [dataKey, encoded] of Object.entries(secret.data ?? {})) values[dataKey] = Buffer.from(encoded, 'base64').toString('utf8');
        for (const [dataKey, plain] of Object.entries(secret.stringData ?? {})) values[dataKey] = plain;
        for (const value of Object.values(values)) redactor.add(value);
        own.Secrets[key] = values;
      } else {
        const configMap = await kube().core.readNamespacedConfigMap({ name, namespace });
        own.ConfigMaps[key] = { ...(configMap.data ?? {}) };
      }
    } catch (error) {
      const status = (error as { code?: number }).code;
      throw new Error(`cannot read ${reference.kind} ${namespace}/${name} (objects.${key})${status ? `: HTTP ${status}` : `: ${(error as Error).message}`}`);
    }
  }
}
