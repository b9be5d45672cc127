import type { StackComponent } from '../component.ts';
import { csi } from './csi.ts';
import { kopia } from './kopia.ts';
import { kube } from './kube.ts';
import { podRuntime } from './pod-runtime.ts';
import { s3 } from './s3.ts';
import { temporal } from './temporal.ts';

/**
 * Every component of the local stack, in start order (`stack:down` stops them in reverse). Adding one is an
 * import and an entry here; `after` names what must run first and is checked against this order.
 */
export const components: StackComponent[] = [
  kopia,
  s3,
  temporal,
  kube,
  csi,
  podRuntime,
];
