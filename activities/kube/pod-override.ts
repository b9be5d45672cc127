/**
 * Kanister's `podOverride` semantics, shared by every function that creates a pod (KubeTask, CopyVolumeData,
 * RestoreData): objects merge key by key; arrays of named items (containers, volumes, volumeMounts, env)
 * merge by name, so an override can add a mount to the function's own container; other arrays replace.
 */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(override)) {
    const named = (items: unknown[]) => items.every((item) => typeof item === 'object' && item !== null && 'name' in item);
    if (!named(base) || !named(override)) return override;
    const result = base.map((item) => {
      const match = override.find((o) => (o as { name: string }).name === (item as { name: string }).name);
      return match ? deepMerge(item, match) : item;
    });
    for (const item of override) if (!base.some((b) => (b as { name: string }).name === (item as { name: string }).name)) result.push(item);
    return result;
  }
  if (typeof base === 'object' && base !== null && typeof override === 'object' && override !== null && !Array.isArray(base) && !Array.isArray(override)) {
    const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [key, value] of Object.entries(override)) result[key] = key in result ? deepMerge(result[key], value) : value;
    return result;
  }
  return override;
}
