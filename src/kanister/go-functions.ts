/**
 * Go template built-ins and sprig functions → Cairn helpers (`src/template/helpers.ts`). Sprig's argument
 * order is kept by Cairn's helpers (`default FALLBACK VALUE`, `date LAYOUT TIME`), so most calls map one to
 * one; a few are rewritten into helpers Cairn has (`cat` → `concat`, `first` → `index … 0`), and the rest are
 * reported with the reason. Arguments arrive translated, the piped value last, as Go passes it.
 */
import { didYouMean } from '../diagnostics.ts';
import { call, contextPath, IDENTIFIER_SEGMENT, literal, shapeOf, withShape, type HbsExpr } from './handlebars-expr.ts';

export type FunctionResult = { expr: HbsExpr } | { problem: { code: string; message: string; hint?: string } };

interface Mapping {
  /** Cairn helper of the same meaning, called with the same arguments. */
  helper?: string;
  arity: [number, number];
  rewrite?: (args: HbsExpr[]) => FunctionResult;
}

const MANY = Number.POSITIVE_INFINITY;

const same = (helper: string, min: number, max = min): Mapping => ({ helper, arity: [min, max] });

const MAPPINGS: Record<string, Mapping> = {
  // Go built-ins
  index: { arity: [1, MANY], rewrite: ([collection, ...keys]) => keys.reduce<FunctionResult>((result, key) => ('expr' in result ? indexOnce(result.expr, key) : result), { expr: collection! }) },
  len: same('len', 1),
  eq: { arity: [2, MANY], rewrite: ([first, ...others]) => ({ expr: others.length === 1 ? call('eq', first!, others[0]!) : call('or', ...others.map((other) => call('eq', first!, other))) }) },
  ne: same('ne', 2),
  lt: same('lt', 2),
  le: same('le', 2),
  gt: same('gt', 2),
  ge: same('ge', 2),
  and: same('and', 1, MANY),
  or: same('or', 1, MANY),
  not: same('not', 1),
  print: { arity: [1, MANY], rewrite: (args) => ({ expr: args.length === 1 ? call('toString', args[0]!) : call('concat', ...args) }) },
  println: { arity: [0, MANY], rewrite: (args) => ({ expr: call('concat', ...spaced(args), literal('\n')) }) },
  printf: { arity: [1, MANY], rewrite: printf },
  // sprig
  // Annotated: an object literal's `toString` key is otherwise typed against Object.prototype.toString.
  toString: { arity: [1, 1] as [number, number], rewrite: (args: HbsExpr[]): FunctionResult => ({ expr: shapeOf(args[0]!) === 'bytes' ? asValue(args[0]!) : call('toString', args[0]!) }) },
  toJson: same('toJson', 1),
  toRawJson: same('toJson', 1),
  quote: same('quote', 1),
  squote: { arity: [1, 1], rewrite: (args) => ({ expr: call('concat', literal("'"), asValue(args[0]!), literal("'")) }) },
  cat: { arity: [1, MANY], rewrite: (args) => ({ expr: call('concat', ...spaced(args)) }) },
  default: same('default', 2),
  empty: same('not', 1),
  coalesce: same('or', 1, MANY),
  first: { arity: [1, 1], rewrite: ([list]) => indexOnce(list!, literal(0)) },
  b64enc: same('b64enc', 1),
  b64dec: same('b64dec', 1),
  date: same('date', 2),
  toDate: same('toDate', 2),
  // Cairn's Time is the run's start, fixed so that retries render the same; sprig's now would differ per retry.
  now: { arity: [0, 0], rewrite: () => ({ expr: contextPath(['Time']) }) },
  upper: same('upper', 1),
  lower: same('lower', 1),
  trim: same('trim', 1),
  trimPrefix: same('trimPrefix', 2),
  trimSuffix: same('trimSuffix', 2),
  replace: same('replace', 3),
  join: same('join', 2),
  contains: same('contains', 2),
  hasPrefix: same('hasPrefix', 2),
  hasSuffix: same('hasSuffix', 2),
  trimAll: same('trimAll', 2),
  trimall: same('trimAll', 2),
  splitList: same('splitList', 2),
  keys: same('keys', 1, MANY),
  last: same('last', 1),
  ternary: same('ternary', 3),
  add: same('add', 1, MANY),
  add1: same('add1', 1),
  sub: same('sub', 2),
  mul: same('mul', 1, MANY),
  div: same('div', 2),
  mod: same('mod', 2),
};

/** Functions that exist in Go or sprig but have no Cairn helper; the reason, where there is a specific one. */
const REJECTED: Record<string, string> = {
  env: 'templates cannot read the environment',
  expandenv: 'templates cannot read the environment',
  getHostByName: 'templates cannot reach the network',
  html: 'Cairn templates do not escape for HTML or JavaScript',
  js: 'Cairn templates do not escape for HTML or JavaScript',
  urlquery: 'Cairn templates do not escape for URLs',
  call: 'templates cannot call functions held in data',
  required: 'Cairn fails on a missing value already; an empty value needs an explicit check',
  fail: 'templates cannot abort the run; use a KubeTask that exits non-zero',
  randAlphaNum: 'templates are deterministic (retries must render the same)',
  randAlpha: 'templates are deterministic (retries must render the same)',
  randNumeric: 'templates are deterministic (retries must render the same)',
  randAscii: 'templates are deterministic (retries must render the same)',
  uuidv4: 'templates are deterministic (retries must render the same)',
  genPrivateKey: 'templates do not generate key material',
  genCA: 'templates do not generate key material',
  genSelfSignedCert: 'templates do not generate key material',
  genSignedCert: 'templates do not generate key material',
  derivePassword: 'templates do not generate key material',
};

/** Other sprig functions: known, so an unknown name can be told apart from one Cairn lacks. */
const OTHER_SPRIG = `slice title untitle repeat substr nospace trunc abbrev abbrevboth initials wrap wrapWith contains hasPrefix
hasSuffix snakecase camelcase kebabcase swapcase shuffle plural regexMatch regexFind regexFindAll regexReplaceAll
regexReplaceAllLiteral regexSplit splitList split splitn sortAlpha add add1 sub div mod mul max min floor ceil round
atoi int int64 float64 toStrings toDecimal list dict get set unset hasKey pluck keys pick omit merge mergeOverwrite
values append prepend last rest initial reverse uniq without has compact ternary sha1sum sha256sum adler32sum
buildCustomCert encryptAES decryptAES dateInZone date_in_zone dateModify date_modify htmlDate htmlDateInZone ago
duration durationRound unixEpoch mustToDate toPrettyJson fromJson semver semverCompare typeOf typeIs typeIsLike
kindOf kindIs deepEqual b32enc b32dec urlParse urlJoin base dir ext clean isAbs indent nindent trimAll trimall seq
until untilStep biggest mustFirst mustLast mustRest mustInitial mustAppend mustPrepend mustUniq mustWithout
mustHas mustCompact mustSlice mustReverse mustPush push mustDateModify mustRegexMatch mustRegexFind
mustRegexFindAll mustRegexReplaceAll mustRegexReplaceAllLiteral mustRegexSplit mustMerge mustMergeOverwrite
mustToJson mustToPrettyJson mustToRawJson dig osBase osDir osExt osClean osIsAbs`.split(/\s+/);

const KNOWN_NAMES = new Set([...Object.keys(MAPPINGS), ...Object.keys(REJECTED), ...OTHER_SPRIG]);

export function translateCall(name: string, args: HbsExpr[]): FunctionResult {
  const mapping = Object.hasOwn(MAPPINGS, name) ? MAPPINGS[name] : undefined;
  if (!mapping) {
    if (Object.hasOwn(REJECTED, name)) {
      return { problem: { code: 'unsupported-template-function', message: `function "${name}" has no Cairn equivalent: ${REJECTED[name]}` } };
    }
    if (KNOWN_NAMES.has(name)) {
      return { problem: { code: 'unsupported-template-function', message: `sprig function "${name}" has no Cairn helper`, hint: `functions that translate: ${cairnSupported().join(', ')}` } };
    }
    const suggestion = didYouMean(name, KNOWN_NAMES);
    const problem = { code: 'unknown-template-function', message: `"${name}" is not a Go template or sprig function` };
    return { problem: suggestion ? { ...problem, hint: `did you mean "${suggestion}"?` } : problem };
  }
  const [min, max] = mapping.arity;
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : max === MANY ? `at least ${min}` : `${min} to ${max}`;
    return { problem: { code: 'go-template-syntax', message: `wrong number of args for ${name}: want ${expected}, got ${args.length}` } };
  }
  if (mapping.rewrite) return mapping.rewrite(args);
  return { expr: call(mapping.helper!, ...args.map(asValue)) };
}

/** The Go/sprig names that translate. */
export function cairnSupported(): string[] {
  return Object.keys(MAPPINGS).sort();
}

/** `printf` with `%s`, `%v`, `%d` and `%q` verbs only: the format becomes a `concat` of its pieces. */
function printf([format, ...args]: HbsExpr[]): FunctionResult {
  if (format?.kind !== 'literal' || typeof format.value !== 'string') {
    return { problem: { code: 'unsupported-template-function', message: 'printf needs a literal format string to be translated' } };
  }
  const parts: HbsExpr[] = [];
  let text = '';
  let next = 0;
  const verbs = /%([%svdq])|%[^%svdq]?/g;
  let last = 0;
  for (const match of format.value.matchAll(verbs)) {
    text += format.value.slice(last, match.index);
    last = match.index + match[0].length;
    const verb = match[1];
    if (verb === '%') {
      text += '%';
      continue;
    }
    if (verb === undefined) {
      return { problem: { code: 'unsupported-template-function', message: `printf verb "${match[0]}" is not translated (only %s, %v, %d, %q)` } };
    }
    const arg = args[next++];
    if (!arg) return { problem: { code: 'go-template-syntax', message: `printf format ${JSON.stringify(format.value)} has more verbs than arguments` } };
    if (text) parts.push(literal(text));
    text = '';
    parts.push(verb === 'q' ? call('quote', asValue(arg)) : asValue(arg));
  }
  text += format.value.slice(last);
  if (text) parts.push(literal(text));
  if (next !== args.length) return { problem: { code: 'go-template-syntax', message: `printf format ${JSON.stringify(format.value)} has fewer verbs than arguments` } };
  return { expr: parts.length === 1 && parts[0]!.kind === 'literal' ? parts[0]! : call('concat', ...parts) };
}

function asValue(expr: HbsExpr): HbsExpr {
  return shapeOf(expr) === 'value' ? expr : withShape(expr, 'value');
}

function spaced(args: HbsExpr[]): HbsExpr[] {
  return args.flatMap((arg, i) => (i === 0 ? [arg] : [literal(' '), arg]));
}

export const MOUNT_PATH_PROBLEM = {
  code: 'unsupported-template-field',
  message: "mount paths of PVCs are not in Cairn's context (Target.pvcs lists PVC names per pod)",
  hint: 'write the mount path in the blueprint, or read it from Object',
};

/** `index` one level deep, minding where Kanister's shapes differ from Cairn's. */
export function indexOnce(collection: HbsExpr, key: HbsExpr): FunctionResult {
  const shape = shapeOf(collection);
  if (shape === 'secretData' || shape === 'configMapData') {
    // Cairn's Secrets hold decoded strings where Kanister's hold []byte (hence the `| toString` it needed).
    const valueShape = shape === 'secretData' ? 'bytes' : 'value';
    if (collection.kind === 'path' && key.kind === 'literal' && typeof key.value === 'string' && IDENTIFIER_SEGMENT.test(key.value)) {
      return { expr: { ...collection, segments: [...collection.segments, key.value], shape: valueShape } };
    }
    return { expr: withShape(call('index', asValue(collection), key), valueShape) };
  }
  if (shape === 'containersByIndex') {
    // Kanister indexes containers by pod position; Cairn by pod name.
    return { expr: call('index', asValue(collection), call('index', contextPath(['Target', 'pods']), key)) };
  }
  if (shape === 'pvcMap') return { expr: withShape(call('index', asValue(collection), key), 'pvcsOfPod') };
  if (shape === 'pvcsOfPod') return { problem: MOUNT_PATH_PROBLEM };
  if (shape === 'bytes') return { problem: { code: 'unsupported-template-field', message: 'a Secret value is a string in Cairn; it cannot be indexed' } };
  return { expr: call('index', collection, key) };
}
