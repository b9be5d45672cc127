/**
 * Kanister's template parameters (`param.TemplateParams`: `.StatefulSet`, `.Phases`, `.Profile`, …) → paths
 * in Cairn's template context (`src/template/context.ts`). One function per root field; what Cairn does not
 * offer is a problem with the reason.
 */
import type { WorkloadKind } from '../target.ts';
import { contextPath, type HbsExpr, type Shape } from './handlebars-expr.ts';

export interface Problem {
  code: string;
  message: string;
  hint?: string;
}

export type Resolved = { expr: HbsExpr } | { problem: Problem };

/** What the template's place in the blueprint decides: which phase reads, and where objects come from. */
export interface TemplateSite {
  /** The phase whose args or objects hold the template; undefined in output artifacts. */
  phase?: string;
  /** The action's defer phase, for `.DeferPhase.Output`. */
  deferPhase?: string;
  /**
   * A read of a Secret or ConfigMap: declared by phase `owner`'s objects, or by the action's
   * secretNames/configMapNames when `owner` is undefined. Returns the Cairn path of the object's data.
   */
  readObject(kind: 'Secret' | 'ConfigMap', owner: string | undefined, key: string): { segments: string[] } | { problem: Problem };
  /** Records that the template reads `.StatefulSet`, `.Deployment`, `.PVC` or `.Namespace`. */
  useWorkload(kind: WorkloadKind): void;
  /** Records that the template reads what Kanister's ActionSet gave and a Cairn run gives as an option. */
  useRunOption?(option: string, parameter: string): void;
  /** Records that the template reads the input artifact `name`. */
  useArtifact?(name: string): void;
}

const WORKLOAD_FIELDS: Record<string, [string, Shape]> = {
  Name: ['name', 'value'],
  Namespace: ['namespace', 'value'],
  Pods: ['pods', 'value'],
  Containers: ['containers', 'containersByIndex'],
  PersistentVolumeClaims: ['pvcs', 'pvcMap'],
};

const LOCATION_FIELDS: Record<string, string> = { Type: 'type', Bucket: 'bucket', Endpoint: 'endpoint', Prefix: 'prefix', Region: 'region' };

const UNSUPPORTED_ROOTS: Record<string, Problem> = {
  DeploymentConfig: { code: 'unsupported-template-field', message: 'OpenShift DeploymentConfigs are not supported by Cairn', hint: 'use a Deployment' },
  RepositoryServer: { code: 'unsupported-template-field', message: 'Kopia repository servers are not supported; Cairn reaches the location through its profile' },
};

/** Kanister's ActionSet-level pod settings → the run options that carry them in Cairn. */
const RUN_OPTION_ROOTS: Record<string, string> = { PodOverride: 'podOverride', PodLabels: 'podLabels', PodAnnotations: 'podAnnotations' };

const KIND_OF_ROOT: Record<string, WorkloadKind> = { StatefulSet: 'StatefulSet', Deployment: 'Deployment', PVC: 'PersistentVolumeClaim', Namespace: 'Namespace' };

/**
 * The run option that names an action-level Secret/ConfigMap: Kanister's ActionSet named them
 * (`secretNames`/`configMapNames`); a Cairn run names them with `--option secret-<key>=<name>`.
 */
export function actionObjectOption(kind: 'Secret' | 'ConfigMap', key: string): string {
  return `${kind === 'Secret' ? 'secret' : 'configmap'}-${key}`;
}

/** Resolves a field chain read from the root (`.A.B` at top level, or `$.A.B` anywhere). */
export function resolveParam(names: string[], site: TemplateSite): Resolved {
  const [root, ...rest] = names;
  const problem = (message: string, hint?: string, code = 'unsupported-template-field'): Resolved => ({ problem: hint ? { code, message, hint } : { code, message } });
  if (root === undefined) return problem('the whole template context cannot be used');
  if (Object.hasOwn(KIND_OF_ROOT, root)) site.useWorkload(KIND_OF_ROOT[root]!);
  switch (root) {
    case 'StatefulSet':
    case 'Deployment': {
      const field = rest[0];
      if (field === undefined || !Object.hasOwn(WORKLOAD_FIELDS, field)) {
        return problem(`${root} has Name, Namespace, Pods, Containers and PersistentVolumeClaims`, undefined, field === undefined ? 'unsupported-template-field' : 'unknown-template-field');
      }
      if (rest.length > 1) return problem(`${field} has no fields`, undefined, 'unknown-template-field');
      const [cairnField, shape] = WORKLOAD_FIELDS[field]!;
      return { expr: contextPath(['Target', cairnField], shape) };
    }
    case 'PVC':
      if (rest.length !== 1 || (rest[0] !== 'Name' && rest[0] !== 'Namespace')) return problem('PVC has Name and Namespace', undefined, 'unknown-template-field');
      return { expr: contextPath(['Target', rest[0] === 'Name' ? 'name' : 'namespace']) };
    case 'Namespace':
      if (rest.length !== 1 || (rest[0] !== 'Name' && rest[0] !== 'Namespace')) return problem('Namespace has Name', undefined, 'unknown-template-field');
      return { expr: contextPath(['Namespace']) };
    case 'Object':
      return { expr: contextPath(names) };
    case 'PodOverride':
    case 'PodLabels':
    case 'PodAnnotations': {
      const option = RUN_OPTION_ROOTS[root]!;
      site.useRunOption?.(option, root);
      return { expr: contextPath(['Options', option, ...rest]) };
    }
    case 'Options':
    case 'Time':
      if (root === 'Time' && rest.length > 0) return problem('Time is a string', undefined, 'unknown-template-field');
      return { expr: contextPath(names) };
    case 'ArtifactsIn':
      if (rest[0] !== undefined) site.useArtifact?.(rest[0]);
      if (rest[1] !== undefined && rest[1] !== 'KeyValue' && rest[1] !== 'KopiaSnapshot') return problem('an artifact has KeyValue and KopiaSnapshot', undefined, 'unknown-template-field');
      return { expr: contextPath(names) };
    case 'Profile':
      return resolveProfile(rest, problem);
    case 'Phases':
      return resolvePhase(rest, site, problem);
    case 'DeferPhase':
      if (!site.deferPhase) return problem('the action has no deferPhase', undefined, 'unknown-template-field');
      if (rest[0] !== 'Output') return problem('only the Output of the defer phase can be read');
      return { expr: contextPath(['Phases', site.deferPhase, ...rest]) };
    case 'Secrets':
    case 'ConfigMaps':
      return resolveObjectData(root === 'Secrets' ? 'Secret' : 'ConfigMap', undefined, rest, site, problem);
    default:
      if (Object.hasOwn(UNSUPPORTED_ROOTS, root)) {
        const unsupported = UNSUPPORTED_ROOTS[root]!;
        return { problem: unsupported };
      }
      return problem(`.${root}: no such field in Kanister's template parameters`, 'Kanister offers StatefulSet, Deployment, PVC, Namespace, Object, Phases, DeferPhase, ArtifactsIn, Secrets, ConfigMaps, Profile, Options, Time, PodOverride, PodLabels and PodAnnotations', 'unknown-template-field');
  }
}

type ProblemOf = (message: string, hint?: string, code?: string) => Resolved;

function resolveProfile(rest: string[], problem: ProblemOf): Resolved {
  const [field, sub, ...deeper] = rest;
  if (field === undefined) return { expr: contextPath(['Profile']) };
  if (field === 'Credential') {
    return problem('Cairn never hands credentials to templates', 'functions and the kando helper read them from the location profile themselves', 'profile-credentials');
  }
  if (field === 'Location') {
    if (sub === undefined) return { expr: contextPath(['Profile', 'location']) };
    if (!Object.hasOwn(LOCATION_FIELDS, sub) || deeper.length > 0) return problem(`Location has ${Object.keys(LOCATION_FIELDS).join(', ')}`, undefined, 'unknown-template-field');
    return { expr: contextPath(['Profile', 'location', LOCATION_FIELDS[sub]!]) };
  }
  if (field === 'SkipSSLVerify') return problem("TLS verification is a setting of Cairn's location profile, not a template value");
  return problem('Profile has Location (Credential is never available)', undefined, 'unknown-template-field');
}

function resolvePhase(rest: string[], site: TemplateSite, problem: ProblemOf): Resolved {
  const [phase, section, ...more] = rest;
  if (phase === undefined) return problem('name a phase: .Phases.<name>.Output.<key>', undefined, 'unknown-template-field');
  if (section === 'Output') return { expr: contextPath(['Phases', phase, 'Output', ...more]) };
  if (section === 'Secrets' || section === 'ConfigMaps') return resolveObjectData(section === 'Secrets' ? 'Secret' : 'ConfigMap', phase, more, site, problem);
  return problem('a phase has Output, Secrets and ConfigMaps', undefined, 'unknown-template-field');
}

/** `<objects>.<key>.Data[.<dataKey>]` → the Cairn object's decoded values. */
function resolveObjectData(kind: 'Secret' | 'ConfigMap', owner: string | undefined, rest: string[], site: TemplateSite, problem: ProblemOf): Resolved {
  const [key, field, dataKey, ...deeper] = rest;
  if (key === undefined) return problem(`name the ${kind}: ${kind === 'Secret' ? 'Secrets' : 'ConfigMaps'}.<key>.Data`, undefined, 'unknown-template-field');
  if (owner === undefined && (field === 'Name' || field === 'Namespace') && dataKey === undefined) {
    // The run names the action's objects (see actionObjectOption), in the target's namespace.
    return { expr: contextPath(field === 'Name' ? ['Options', actionObjectOption(kind, key)] : ['Target', 'namespace']) };
  }
  if (field !== 'Data') {
    return problem(`Cairn exposes only the data of a ${kind}`, `read values with index ….${key}.Data "<key>"`, 'unsupported-template-field');
  }
  if (deeper.length > 0) return problem(`a ${kind} value has no fields`, undefined, 'unknown-template-field');
  const object = site.readObject(kind, owner, key);
  if ('problem' in object) return object;
  const dataShape = kind === 'Secret' ? 'secretData' : 'configMapData';
  if (dataKey === undefined) return { expr: contextPath(object.segments, dataShape) };
  return { expr: contextPath([...object.segments, dataKey], kind === 'Secret' ? 'bytes' : 'value') };
}
