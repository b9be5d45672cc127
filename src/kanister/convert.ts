/**
 * One Kanister `cr.kanister.io/v1alpha1` Blueprint document → one Cairn blueprint. The structure maps one to
 * one (actions, phases, deferPhase, outputArtifacts, inputArtifactNames, objects); `kind` becomes `kinds`,
 * every string is translated from Go template to handlebars, and Secrets/ConfigMaps a phase reads from
 * elsewhere (the action's secretNames, another phase's objects) are declared in that phase's own objects,
 * because a Cairn phase reads only the objects it declares.
 */
import type { Blueprint, BlueprintAction, ObjectReferenceSpec, OutputArtifactSpec, PhaseSpec } from '../blueprint/types.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { WORKLOAD_KINDS, type WorkloadKind } from '../target.ts';
import type { PathSegment, SourceDocument } from '../yaml-source.ts';
import { mapKanisterFunction } from './functions.ts';
import { ImportReport } from './report.ts';
import { setOwn } from './set-own.ts';
import { convertWaitArgs } from './wait-args.ts';
import { actionObjectOption, type Problem, type TemplateSite } from './template-params.ts';
import { translateGoTemplate } from './translate-template.ts';

export const KANISTER_API_VERSION = 'cr.kanister.io/v1alpha1';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const ACTION_FIELDS = new Set(['kind', 'phases', 'deferPhase', 'outputArtifacts', 'inputArtifactNames', 'secretNames', 'configMapNames']);
const PHASE_FIELDS = new Set(['name', 'func', 'args', 'objects']);

const KIND_SPELLINGS: Record<string, WorkloadKind> = {
  statefulset: 'StatefulSet',
  deployment: 'Deployment',
  pvc: 'PersistentVolumeClaim',
  persistentvolumeclaim: 'PersistentVolumeClaim',
  namespace: 'Namespace',
};

const UNSUPPORTED_KINDS: Record<string, string> = {
  deploymentconfig: 'OpenShift DeploymentConfigs are not supported by Cairn',
  customresource: 'custom resources are not Cairn targets; target the namespace that holds them',
};

export interface ConvertedDocument {
  blueprint: Blueprint;
  report: ImportReport;
}

export function convertDocument(doc: SourceDocument, sourceText: string): ConvertedDocument | { report: ImportReport } {
  const report = new ImportReport(doc, sourceText);
  const value = doc.value;
  if (!isJsonObject(value)) {
    report.error('not-a-blueprint', [], 'a Kanister blueprint must be a YAML mapping');
    return { report };
  }
  if (value.apiVersion !== KANISTER_API_VERSION || value.kind !== 'Blueprint') {
    const cairn = typeof value.apiVersion === 'string' && value.apiVersion.startsWith('cairn.io/');
    report.error(
      cairn ? 'already-cairn' : 'not-kanister',
      ['apiVersion'],
      cairn ? 'this is already a Cairn blueprint' : `expected apiVersion ${KANISTER_API_VERSION} and kind Blueprint, got ${JSON.stringify(value.apiVersion ?? null)} and ${JSON.stringify(value.kind ?? null)}`,
      cairn ? `check it with: cairn validate ${doc.file}` : undefined,
    );
    return { report };
  }
  const metadata = isJsonObject(value.metadata) ? value.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || !DNS_NAME.test(name)) {
    report.error('invalid-name', ['metadata', 'name'], typeof name === 'string' ? `"${name}" is not a valid blueprint name` : 'metadata.name is missing', 'a lowercase DNS name, e.g. mysql-blueprint');
  }
  if (!isJsonObject(value.actions) || Object.keys(value.actions).length === 0) {
    report.error('missing-actions', ['actions'], 'the blueprint has no actions');
    return { report };
  }
  const origin = typeof metadata.namespace === 'string' ? `${metadata.namespace}/${String(name)}` : String(name);
  const blueprint: Blueprint = {
    apiVersion: 'cairn.io/v1alpha1',
    kind: 'Blueprint',
    metadata: { name: String(name), ...stringMaps(metadata, origin) },
    description: `Imported from the Kanister blueprint ${origin}.`,
    actions: {},
  };
  report.map(['metadata'], ['metadata']);
  for (const [actionName, action] of Object.entries(value.actions)) {
    const converted = new ActionConverter(actionName, report).convert(action);
    if (converted) setOwn(blueprint.actions, actionName, converted);
  }
  return { blueprint, report };
}

function stringMaps(metadata: JsonObject, origin: string): Pick<Blueprint['metadata'], 'labels' | 'annotations'> {
  const strings = (map: JsonValue | undefined) => (isJsonObject(map) ? Object.fromEntries(Object.entries(map).filter((e): e is [string, string] => typeof e[1] === 'string')) : {});
  const labels = strings(metadata.labels);
  return { ...(Object.keys(labels).length ? { labels } : {}), annotations: { ...strings(metadata.annotations), 'cairn.io/imported-from': `kanister:${origin}` } };
}

interface PhaseRecord {
  name: string;
  inPath: PathSegment[];
  outPath: PathSegment[];
  /** The Cairn phase's objects: its own, then those hoisted into it, with the Kanister path each came from. */
  objects: Map<string, { spec: ObjectReferenceSpec; inPath: PathSegment[] }>;
}

class ActionConverter {
  private readonly inPath: PathSegment[];
  private readonly outPath: PathSegment[];
  private readonly phases = new Map<string, PhaseRecord>();
  private readonly workloads = new Set<WorkloadKind>();
  /** Run option → the Kanister parameter a template read it as (`.PodOverride`). */
  private readonly runOptions = new Map<string, string>();
  /** Input artifacts the templates read. */
  private readonly artifactsRead = new Set<string>();
  private secretNames: string[] = [];
  private configMapNames: string[] = [];
  private deferPhase?: string;

  constructor(
    private readonly name: string,
    private readonly report: ImportReport,
  ) {
    this.inPath = ['actions', name];
    this.outPath = ['actions', name];
  }

  convert(value: JsonValue): BlueprintAction | undefined {
    const report = this.report;
    if (!IDENTIFIER.test(this.name)) {
      report.error('invalid-name', this.inPath, `action name "${this.name}" is not a Cairn identifier`, 'letters, digits, "-" and "_", starting with a letter');
    }
    if (!isJsonObject(value)) {
      report.error('not-an-action', this.inPath, `action "${this.name}" must be a mapping`);
      return undefined;
    }
    report.map(this.outPath, this.inPath);
    for (const key of Object.keys(value)) {
      if (!ACTION_FIELDS.has(key)) report.warn('ignored-field', [...this.inPath, key], `"${key}" has no Cairn equivalent and is left out`);
    }
    this.secretNames = this.names(value.secretNames, 'secretNames');
    this.configMapNames = this.names(value.configMapNames, 'configMapNames');
    const phaseValues = Array.isArray(value.phases) ? value.phases : [];
    if (!Array.isArray(value.phases) || phaseValues.length === 0) report.error('missing-phases', [...this.inPath, 'phases'], `action "${this.name}" has no phases`);
    const deferValue = value.deferPhase;

    // First every phase's own objects, so that a phase can take over an object another phase declares.
    const entries = phaseValues.map((phase, index) => this.declare(phase, [...this.inPath, 'phases', index], [...this.outPath, 'phases', index]));
    const defer = deferValue === undefined ? undefined : this.declare(deferValue, [...this.inPath, 'deferPhase'], [...this.outPath, 'deferPhase']);
    this.deferPhase = defer?.record.name;

    const action: BlueprintAction = { kinds: [], phases: [] };
    if (value.inputArtifactNames !== undefined) {
      action.inputArtifactNames = this.names(value.inputArtifactNames, 'inputArtifactNames');
      report.map([...this.outPath, 'inputArtifactNames'], [...this.inPath, 'inputArtifactNames']);
    }
    if (value.outputArtifacts !== undefined) action.outputArtifacts = this.outputArtifacts(value.outputArtifacts);
    action.phases = entries.flatMap((entry) => (entry ? [this.phase(entry)] : []));
    if (defer) action.deferPhase = this.phase(defer);
    action.kinds = this.kinds(value.kind);
    if (!action.inputArtifactNames && this.artifactsRead.size > 0) {
      // Kanister hands a run every artifact of the ActionSet whether the action declares them or not; Cairn
      // checks reads against the declaration, which is therefore taken from what the templates read.
      action.inputArtifactNames = [...this.artifactsRead].sort();
      report.map([...this.outPath, 'inputArtifactNames'], this.inPath);
      report.warn('inferred-input-artifacts', this.inPath, `action "${this.name}" declares no inputArtifactNames; it is imported with ${action.inputArtifactNames.join(', ')}, the artifacts its templates read`, 'add inputArtifactNames to the Kanister action');
    }
    for (const [option, parameter] of this.runOptions) {
      report.warn('run-option', this.inPath, `.${parameter} was given by the Kanister ActionSet; Cairn reads it from the run option ${option}`, `cairn run --context <file> with {"Options": {"${option}": {…}}}, or write it into the function's args`);
    }
    // Key order as authors write Cairn blueprints.
    const { kinds, inputArtifactNames, outputArtifacts, phases, deferPhase } = action;
    return { kinds, ...(inputArtifactNames ? { inputArtifactNames } : {}), ...(outputArtifacts ? { outputArtifacts } : {}), phases, ...(deferPhase ? { deferPhase } : {}) };
  }

  private names(value: JsonValue | undefined, field: string): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
      this.report.error('invalid-field', [...this.inPath, field], `${field} must be a list of names`);
      return [];
    }
    value.forEach((name, index) => {
      if (!IDENTIFIER.test(name)) this.report.error('invalid-name', [...this.inPath, field, index], `"${name}" is not a Cairn identifier`);
    });
    return value;
  }

  private kinds(value: JsonValue | undefined): WorkloadKind[] {
    const path = [...this.inPath, 'kind'];
    this.report.map([...this.outPath, 'kinds'], path);
    if (value === undefined) {
      const used = WORKLOAD_KINDS.filter((kind) => this.workloads.has(kind));
      const kinds = used.length > 0 ? used : [...WORKLOAD_KINDS];
      this.report.warn('inferred-kinds', this.inPath, `action "${this.name}" names no kind; it is imported for ${kinds.join(', ')}`, 'add kind: StatefulSet (or Deployment, PVC, Namespace) to the Kanister action, or edit kinds');
      return kinds;
    }
    const spelling = typeof value === 'string' ? value.toLowerCase() : '';
    const kind = Object.hasOwn(KIND_SPELLINGS, spelling) ? KIND_SPELLINGS[spelling] : undefined;
    if (!kind) {
      const unsupported = Object.hasOwn(UNSUPPORTED_KINDS, spelling) ? UNSUPPORTED_KINDS[spelling] : undefined;
      this.report.error(unsupported ? 'unsupported-kind' : 'invalid-kind', path, unsupported ?? `unknown kind ${JSON.stringify(value)}`, 'Cairn targets a StatefulSet, Deployment, PVC or Namespace');
      return ['StatefulSet'];
    }
    for (const other of this.workloads) {
      if (other !== kind && other !== 'Namespace') {
        this.report.warn('kind-mismatch', path, `action "${this.name}" is for ${kind} but its templates read .${other === 'PersistentVolumeClaim' ? 'PVC' : other}; in Cairn both read the target`);
      }
    }
    return [kind];
  }

  private freeName(base: string): string {
    const clean = /^[A-Za-z]/.test(base) ? base.replace(/[^A-Za-z0-9_-]/g, '') : `phase${base}`;
    let name = clean;
    for (let n = 2; this.phases.has(name); n++) name = `${clean}${n}`;
    return name;
  }

  /** Checks a phase's name and converts its own objects. */
  private declare(value: JsonValue, inPath: PathSegment[], outPath: PathSegment[]): { record: PhaseRecord; value: JsonObject } | undefined {
    const report = this.report;
    if (!isJsonObject(value)) {
      report.error('not-a-phase', inPath, 'a phase must be a mapping with name and func');
      return undefined;
    }
    let name = value.name;
    if (name === undefined) {
      // Kanister lets a phase nobody reads from go unnamed; Cairn names every phase.
      name = this.freeName(typeof value.func === 'string' ? value.func.replace(/^./, (c) => c.toLowerCase()) : 'phase');
      report.warn('generated-name', inPath, `the phase has no name; it is imported as "${name}"`);
    }
    if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
      report.error('invalid-name', [...inPath, 'name'], `phase name ${JSON.stringify(name)} is not a Cairn identifier`, 'letters, digits, "-" and "_", starting with a letter');
      return undefined;
    }
    if (this.phases.has(name)) {
      report.error('duplicate-phase', [...inPath, 'name'], `phase name "${name}" is used twice in action "${this.name}"`);
      return undefined;
    }
    const record: PhaseRecord = { name, inPath, outPath, objects: new Map() };
    this.phases.set(name, record);
    report.map(outPath, inPath);
    for (const key of Object.keys(value)) {
      if (!PHASE_FIELDS.has(key)) report.warn('ignored-field', [...inPath, key], `"${key}" has no Cairn equivalent and is left out`);
    }
    if (value.objects !== undefined && !isJsonObject(value.objects)) report.error('invalid-field', [...inPath, 'objects'], 'objects must be a mapping');
    for (const [key, reference] of Object.entries(isJsonObject(value.objects) ? value.objects : {})) {
      const spec = this.objectReference(reference, [...inPath, 'objects', key], name);
      if (spec) record.objects.set(key, { spec, inPath: [...inPath, 'objects', key] });
    }
    return { record, value };
  }

  private objectReference(value: JsonValue, inPath: PathSegment[], phase: string): ObjectReferenceSpec | undefined {
    if (!isJsonObject(value) || typeof value.name !== 'string') {
      this.report.error('invalid-object', inPath, 'an object reference needs kind and name');
      return undefined;
    }
    const kindText = typeof value.kind === 'string' ? value.kind.toLowerCase() : '';
    const kind = kindText === 'secret' ? 'Secret' : kindText === 'configmap' ? 'ConfigMap' : undefined;
    if (!kind) {
      this.report.error('unsupported-object-kind', [...inPath, 'kind'], `object kind ${JSON.stringify(value.kind ?? null)} is not supported: Cairn resolves Secrets and ConfigMaps`);
      return undefined;
    }
    const site = this.site(phase, true);
    const spec: ObjectReferenceSpec = { kind, name: this.template(value.name, [...inPath, 'name'], site) };
    if (typeof value.namespace === 'string') spec.namespace = this.template(value.namespace, [...inPath, 'namespace'], site);
    return spec;
  }

  private phase({ record, value }: { record: PhaseRecord; value: JsonObject }): PhaseSpec {
    const { inPath, outPath } = record;
    const func = typeof value.func === 'string' ? value.func : '';
    const mapped = func ? mapKanisterFunction(func) : { problem: { code: 'missing-func', message: `phase "${record.name}" has no func` } };
    if ('problem' in mapped) this.report.problem(mapped.problem, [...inPath, func ? 'func' : 'name']);
    this.report.map([...outPath, 'func'], [...inPath, 'func']);
    const phase: PhaseSpec = { name: record.name, func: 'func' in mapped ? mapped.func : func };
    let args: JsonObject | undefined;
    if (value.args !== undefined) {
      if (!isJsonObject(value.args)) this.report.error('invalid-field', [...inPath, 'args'], 'args must be a mapping');
      else if (func === 'WaitV2' || func === 'Wait') {
        const site = this.site(record.name, false);
        args = convertWaitArgs(value.args, [...inPath, 'args'], [...outPath, 'args'], this.report, (item, itemIn, itemOut) => this.translate(item, itemIn, itemOut, site));
      }
      else args = this.translate(value.args, [...inPath, 'args'], [...outPath, 'args'], this.site(record.name, false)) as JsonObject;
    }
    // Objects last: reading the args may have hoisted more of them into this phase.
    if (record.objects.size > 0) {
      phase.objects = Object.fromEntries([...record.objects].map(([key, entry]) => [key, entry.spec]));
      for (const [key, entry] of record.objects) this.report.map([...outPath, 'objects', key], entry.inPath);
    }
    if (args) phase.args = args;
    return phase;
  }

  private outputArtifacts(value: JsonValue): Record<string, OutputArtifactSpec> | undefined {
    const path = [...this.inPath, 'outputArtifacts'];
    if (!isJsonObject(value)) {
      this.report.error('invalid-field', path, 'outputArtifacts must be a mapping');
      return undefined;
    }
    this.report.map([...this.outPath, 'outputArtifacts'], path);
    const site = this.site(undefined, false);
    const artifacts: Record<string, OutputArtifactSpec> = {};
    for (const [name, artifact] of Object.entries(value)) {
      if (!IDENTIFIER.test(name)) this.report.error('invalid-name', [...path, name], `artifact name "${name}" is not a Cairn identifier`);
      if (!isJsonObject(artifact)) {
        this.report.error('invalid-field', [...path, name], 'an artifact has keyValue and/or kopiaSnapshot');
        continue;
      }
      setOwn(artifacts, name, this.translate(artifact, [...path, name], [...this.outPath, 'outputArtifacts', name], site) as OutputArtifactSpec);
    }
    return artifacts;
  }

  private site(phase: string | undefined, inObjectReference: boolean): TemplateSite {
    return {
      ...(phase ? { phase } : {}),
      ...(this.deferPhase ? { deferPhase: this.deferPhase } : {}),
      useWorkload: (kind) => this.workloads.add(kind),
      useRunOption: (option, parameter) => this.runOptions.set(option, parameter),
      useArtifact: (name) => this.artifactsRead.add(name),
      readObject: (kind, owner, key) => {
        if (inObjectReference) return { problem: { code: 'unsupported-template-field', message: 'an object reference cannot read Secrets or ConfigMaps' } };
        if (!phase) {
          return { problem: { code: 'unsupported-template-field', message: `output artifacts cannot read ${kind}s in Cairn: a phase reads only its own objects`, hint: 'write the value into a phase output (kando output) and read that' } };
        }
        return this.hoist(kind, owner, key, phase);
      },
    };
  }

  /** Makes `key` one of `phase`'s objects and returns where Cairn templates read its data. */
  private hoist(kind: 'Secret' | 'ConfigMap', owner: string | undefined, key: string, phase: string): { segments: string[] } | { problem: Problem } {
    const target = this.phases.get(phase)!;
    const section = kind === 'Secret' ? 'Secrets' : 'ConfigMaps';
    let source: { spec: ObjectReferenceSpec; inPath: PathSegment[] };
    if (owner === undefined) {
      const declared = kind === 'Secret' ? this.secretNames : this.configMapNames;
      const field = kind === 'Secret' ? 'secretNames' : 'configMapNames';
      // Kanister's ActionSet named the object (secretNames only lists what it must name); in Cairn the run's
      // options do.
      const option = actionObjectOption(kind, key);
      const inPath = declared.includes(key) ? [...this.inPath, field, declared.indexOf(key)] : this.inPath;
      source = { spec: { kind, name: `{{Options.${option}}}` }, inPath };
      if (!target.objects.has(key)) {
        this.report.warn('action-object', source.inPath, `${kind} "${key}" was named by the Kanister ActionSet; Cairn reads its name from the run option ${option}`, `run with --option ${option}=<name>; the ${kind} is read from the target's namespace`);
      }
    } else {
      const ownerRecord = this.phases.get(owner);
      const declared = ownerRecord?.objects.get(key);
      if (!ownerRecord) return { problem: { code: 'unknown-phase', message: `no phase "${owner}" in action "${this.name}"` } };
      if (!declared) return { problem: { code: 'unknown-object', message: `phase "${owner}" declares no object "${key}"` } };
      source = declared;
    }
    if (source.spec.kind !== kind) return { problem: { code: 'unknown-object', message: `object "${key}" is a ${source.spec.kind}, not a ${kind}` } };
    const existing = target.objects.get(key);
    if (existing && JSON.stringify(existing.spec) !== JSON.stringify(source.spec)) {
      return { problem: { code: 'object-conflict', message: `phase "${phase}" already declares a different object "${key}"`, hint: 'rename one of the objects in the Kanister blueprint' } };
    }
    if (!existing) target.objects.set(key, source);
    return { segments: ['Phases', phase, section, key] };
  }

  private translate(value: JsonValue, inPath: PathSegment[], outPath: PathSegment[], site: TemplateSite): JsonValue {
    this.report.map(outPath, inPath);
    if (typeof value === 'string') return this.template(value, inPath, site);
    if (Array.isArray(value)) return value.map((item, index) => this.translate(item, [...inPath, index], [...outPath, index], site));
    if (isJsonObject(value)) {
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('{{')) this.report.error('template-in-key', [...inPath, key], `the key ${JSON.stringify(key)} is a template; Cairn renders values only`, 'compute the key outside the blueprint');
        setOwn(out, key, this.translate(item, [...inPath, key], [...outPath, key], site));
      }
      return out;
    }
    return value;
  }

  private template(text: string, inPath: PathSegment[], site: TemplateSite): string {
    const translation = translateGoTemplate(text, site);
    for (const problem of translation.problems) this.report.templateProblem(problem, inPath, text);
    return translation.text;
  }
}
