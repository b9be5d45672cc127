/**
 * Cairn's own RBAC vocabulary. A run of action `<action>` on a target in namespace `<ns>` is allowed when its
 * requester may do verb `<action>` on resource `runs` in API group `cairn.io` in `<ns>`: `kubectl auth can-i
 * backup runs.cairn.io -n shop`. No such API exists; RBAC does not need one, and SubjectAccessReview answers
 * for any group/resource/verb. deploy/ ships the aggregated ClusterRoles that grant these verbs.
 */
export const CAIRN_API_GROUP = 'cairn.io';
export const RUNS_RESOURCE = 'runs';

/** The ClusterRoles in deploy/ (aggregated into `admin` and `edit`), by the verbs they grant. */
export const OPERATOR_ROLES = {
  'cairn-backup-operator': ['backup', 'delete'],
  // `validate`: a restore runs the blueprints' validate actions (readiness) in the namespace it restores into.
  'cairn-restore-operator': ['restore', 'validate'],
} as const;

/** The verb a run needs: its action's name (`backup`, `restore`, `delete`, or a custom action). */
export function verbFor(action: string): string {
  return action;
}

/** The ClusterRole that grants a verb, for error messages; undefined for custom actions. */
export function roleGranting(verb: string): string | undefined {
  return Object.entries(OPERATOR_ROLES).find(([, verbs]) => (verbs as readonly string[]).includes(verb))?.[0];
}
