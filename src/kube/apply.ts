/** Creates the objects of a directory of manifests in a namespace; objects that already exist are left as they are. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { KubeClients } from './clients.ts';

export async function ensureNamespace(clients: KubeClients, name: string): Promise<void> {
  try {
    await clients.core.readNamespace({ name });
  } catch {
    await clients.core.createNamespace({ body: { metadata: { name } } });
  }
  await waitForDefaultServiceAccount(clients, name);
}

/** Pods are refused until a namespace's default ServiceAccount exists, which comes a moment after the namespace. */
export async function waitForDefaultServiceAccount(clients: KubeClients, name: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      await clients.core.readNamespacedServiceAccount({ namespace: name, name: 'default' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`namespace ${name} has no default ServiceAccount after 30 s`);
}

/** Returns the number of objects created (0 when everything existed already). */
export async function createManifests(clients: KubeClients, dir: string, namespace: string, include: (file: string) => boolean = () => true): Promise<number> {
  let created = 0;
  for (const file of (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f) && include(f)).sort()) {
    for (const object of k8s.loadAllYaml(await readFile(join(dir, file), 'utf8')) as k8s.KubernetesObject[]) {
      if (!object?.kind) continue;
      object.metadata = { ...object.metadata, namespace };
      try {
        await clients.objects.create(object);
        created += 1;
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw new Error(`cannot create ${object.kind} ${namespace}/${object.metadata.name} from ${file}: ${(error as Error).message}`);
      }
    }
  }
  return created;
}
