import { stringify } from 'yaml';
import { CairnError, errorsOf, type Diagnostic } from '../diagnostics.ts';
import { compilePlan } from '../blueprint/compile.ts';
import { validateFile } from '../blueprint/validate.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { planSteps, type ExecutionPlan, type PlanNode, type PlanStep } from '../plan/types.ts';
import { parseTarget, type TargetRef } from '../target.ts';
import { previewContext } from '../template/preview.ts';
import { renderValue } from '../template/render.ts';
import { defineCommand, EXIT_OK, UsageError } from './io.ts';
import { parseOptionFlags, readContextFile } from './options.ts';

const HELP = `Usage: cairn render <blueprint.yaml> --action <action> --target <kind>/<namespace>/<name> [options]

Compiles one action of a blueprint into its execution plan and shows each phase with its arguments rendered
as far as they can be before the run. Values known only at run time (pods, phase outputs, artifacts, Secrets)
are shown as <runtime:...>. Nothing is read from the cluster.

Options:
  -a, --action <name>       the action to compile (backup, restore, ...)
  -t, --target <ref>        e.g. statefulset/shop/postgres, deployment/shop/api, pvc/shop/data, namespace/shop
      --option <k=v>        a run option (a string); repeatable
      --context <file>      JSON with known context values, e.g. {"Target":{"pods":["pg-0"]},"Options":{"replicas":3}}
      --blueprint <name>    which blueprint, when the file holds several
  -o, --output <format>     text (default), json (plan and rendered args) or plan (the plan JSON only)
      --debug               print stack traces of unexpected errors
  -h, --help                show this help

Exit status: 0 rendered, 1 invalid blueprint or template error, 2 usage error.
`;

export interface RenderedStep {
  id: string;
  func: string;
  args: JsonValue;
  objects: JsonValue;
}

export const renderCommand = defineCommand(
  {
    name: 'render',
    help: HELP,
    flags: {
      action: { type: 'string', short: 'a' },
      target: { type: 'string', short: 't' },
      option: { type: 'string', multiple: true },
      context: { type: 'string' },
      blueprint: { type: 'string' },
    },
    outputs: ['text', 'json', 'plan'],
  },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one blueprint file');
    if (!values.action) throw new UsageError('--action is required');
    if (!values.target) throw new UsageError('--target is required');
    const parsedTarget = parseTarget(values.target);
    if (!parsedTarget.ok) throw new UsageError(parsedTarget.message);
    const known = await readContextFile(values.context);
    const options: JsonObject = { ...((known.Options ?? {}) as JsonObject), ...parseOptionFlags(values.option) };

    const result = await validateFile(positionals[0]!);
    const errors = errorsOf(result.diagnostics);
    if (errors.length > 0) throw new CairnError(errors);
    const loaded = values.blueprint ? result.blueprints.find((b) => b.blueprint.metadata.name === values.blueprint) : result.blueprints[0];
    if (!loaded) throw new UsageError(values.blueprint ? `no blueprint named "${values.blueprint}" in ${positionals[0]}` : `no blueprint in ${positionals[0]}`);
    if (result.blueprints.length > 1 && !values.blueprint) {
      throw new UsageError(`${positionals[0]} holds ${result.blueprints.length} blueprints; choose one with --blueprint`);
    }
    const artifacts = known.ArtifactsIn !== undefined && isJsonObject(known.ArtifactsIn) ? (known.ArtifactsIn as Record<string, JsonObject>) : undefined;
    const plan = compilePlan({ blueprint: loaded.blueprint, action: values.action, target: parsedTarget.target, options, ...(artifacts ? { artifacts } : {}) });
    if (format === 'plan') {
      io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
      return EXIT_OK;
    }
    const rendered = renderSteps(plan, parsedTarget.target, options, known, positionals[0]!);
    if (format === 'json') io.stdout(`${JSON.stringify({ plan, rendered }, null, 2)}\n`);
    else io.stdout(describePlan(plan, rendered));
    return EXIT_OK;
  },
);

function renderSteps(plan: ExecutionPlan, target: TargetRef, options: JsonObject, known: JsonObject, file: string): Record<string, RenderedStep> {
  const context = previewContext({ target, options, known });
  const rendered: Record<string, RenderedStep> = {};
  const problems: Diagnostic[] = [];
  for (const step of planSteps(plan)) {
    try {
      rendered[step.id] = {
        id: step.id,
        func: step.func,
        args: renderValue(step.args, context),
        objects: renderValue(step.objects as unknown as JsonValue, context),
      };
    } catch (error) {
      problems.push({ code: 'render', severity: 'error', file, path: `phase ${step.id}`, message: (error as Error).message });
    }
  }
  if (problems.length > 0) throw new CairnError(problems);
  return rendered;
}

function describePlan(plan: ExecutionPlan, rendered: Record<string, RenderedStep>): string {
  const lines = [
    `blueprint: ${plan.blueprint.name}   action: ${plan.action}   target: ${plan.targetRef}`,
    `plan v${plan.planVersion}   ${plan.stepCount} steps   hash ${plan.hash}`,
    '',
  ];
  const describeStep = (step: PlanStep, indent: string, label: string) => {
    const after = step.dependsOn.length ? `after ${step.dependsOn.join(', ')}` : 'first';
    lines.push(`${indent}${label}${step.id}: ${step.func}   (${after}; timeout ${step.timeoutMs / 1000}s; ${step.retry.maximumAttempts} attempts)`);
    const body = stringify({ args: rendered[step.id]?.args, ...(Object.keys(step.objects).length ? { objects: rendered[step.id]?.objects } : {}) }, { lineWidth: 0 });
    for (const line of body.trimEnd().split('\n')) lines.push(`${indent}    ${line}`);
  };
  const describeNodes = (nodes: PlanNode[], defer: PlanStep | undefined, indent: string) => {
    for (const node of nodes) {
      if (node.type === 'step') describeStep(node, indent, '- ');
      else {
        const after = node.dependsOn.length ? `after ${node.dependsOn.join(', ')}` : 'first';
        lines.push(`${indent}- group ${node.id}   (${after})`);
        describeNodes(node.nodes, node.defer, `${indent}    `);
      }
    }
    if (defer) describeStep(defer, indent, '- defer ');
  };
  describeNodes(plan.nodes, plan.defer, '');
  if (Object.keys(plan.outputArtifacts).length) {
    lines.push('', `output artifacts: ${Object.keys(plan.outputArtifacts).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
