/** Sets an own property, also for keys such as `__proto__`: keys read from YAML are data, never prototypes. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
