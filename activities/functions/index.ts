/** The function registry: every file here exports one function, registered under its own name. */
import { KubeExec } from './KubeExec.ts';
import { Sleep } from './Sleep.ts';
import type { CairnFunction } from './types.ts';

export const FUNCTIONS: ReadonlyMap<string, CairnFunction> = new Map([KubeExec, Sleep].map((f) => [f.name, f]));
