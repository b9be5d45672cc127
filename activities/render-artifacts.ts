/** Renders the action's output artifacts once every phase has succeeded. */
import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../src/kube/clients.ts';
import type { ArtifactValue, RenderArtifactsInput } from '../src/run/types.ts';
import { parseTarget } from '../src/target.ts';
import { renderString, TemplateRenderError } from '../src/template/render.ts';
import { buildTemplateContext, readsTarget } from './context.ts';

export function createRenderOutputArtifacts(deps: { kube: () => KubeClients }) {
  return async function renderOutputArtifacts(input: RenderArtifactsInput): Promise<Record<string, ArtifactValue>> {
    const target = parseTarget(input.target);
    if (!target.ok) throw ApplicationFailure.nonRetryable(target.message, 'InvalidArguments');
    const context = await buildTemplateContext(
      { target: target.target, needsTarget: readsTarget(input.outputArtifacts), runTime: input.runTime, options: input.options, phaseOutputs: input.phaseOutputs, artifacts: {} },
      deps.kube,
    );
    const artifacts: Record<string, ArtifactValue> = {};
    try {
      for (const [name, spec] of Object.entries(input.outputArtifacts)) {
        const keyValue: Record<string, string> = {};
        for (const [key, template] of Object.entries(spec.keyValue ?? {})) keyValue[key] = renderString(template, context);
        artifacts[name] = { KeyValue: keyValue, ...(spec.kopiaSnapshot ? { KopiaSnapshot: renderString(spec.kopiaSnapshot, context) } : {}) };
      }
    } catch (error) {
      if (error instanceof TemplateRenderError) throw ApplicationFailure.nonRetryable(`output artifacts: ${error.message}`, 'TemplateRenderError');
      throw error;
    }
    return artifacts;
  };
}
