/**
 * Which actions a blueprint source declares, read from the YAML alone. Pure: the application workflows call it
 * on the sources pinned in history or in a restore point.
 */
import { parseAllDocuments } from 'yaml';

// Parsed once per source and process (or workflow isolate): parsing is CPU spent inside workflow tasks.
const parsedActions = new Map<string, Set<string>>();

export function actionsOf(source: string): ReadonlySet<string> {
  let actions = parsedActions.get(source);
  if (!actions) {
    actions = new Set();
    for (const document of parseAllDocuments(source)) {
      const value = document.toJS() as { actions?: Record<string, unknown> } | null;
      for (const name of Object.keys(value?.actions ?? {})) actions.add(name);
    }
    parsedActions.set(source, actions);
  }
  return actions;
}

export function hasAction(source: string, action: string): boolean {
  return actionsOf(source).has(action);
}
