/**
 * Real users of the stack's API server for authorization tests: the kube-apiserver authenticates client
 * certificates signed by its `--client-ca-file` CA (kwokctl's pki/ca.crt), taking the user from the CN and
 * the groups from the O fields, as on any kubeadm cluster. A kubeconfig per user, as an admin would hand out.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { StackInfo } from '../../support/stack.ts';

export interface KubeUser {
  name: string;
  groups: string[];
  kubeconfig: string;
}

export function createKubeUser(stack: StackInfo, name: string, groups: string[]): KubeUser {
  const dir = mkdtempSync(join(tmpdir(), `cairn-user-${name}-`));
  const pki = join(stack.kube.workdir, 'pki');
  const key = join(dir, 'user.key');
  const csr = join(dir, 'user.csr');
  const crt = join(dir, 'user.crt');
  const subject = `/CN=${name}${groups.map((group) => `/O=${group}`).join('')}`;
  execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', key], { stdio: 'pipe' });
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr], { stdio: 'pipe' });
  // -set_serial instead of -CAcreateserial: nothing is written next to the cluster's CA.
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-out', crt], { stdio: 'pipe' });
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'cairn', cluster: { server: stack.kube.server, 'certificate-authority-data': b64(join(pki, 'ca.crt')) } }],
      users: [{ name, user: { 'client-certificate-data': b64(crt), 'client-key-data': b64(key) } }],
      contexts: [{ name, context: { cluster: 'cairn', user: name } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return { name, groups, kubeconfig };
}
