/**
 * Searches a workflow history (the JSON `temporal workflow show -o json` prints) for a secret value: in the
 * raw text and inside every payload, decoded from base64, in the plain, base64 and JSON-escaped forms.
 */
import { execFileSync } from 'node:child_process';

export function secretForms(secret: string): string[] {
  return [secret, Buffer.from(secret, 'utf8').toString('base64'), JSON.stringify(secret).slice(1, -1)];
}

/** Where the secret appears: one entry per place and form, empty when the history is clean. */
export function findSecret(historyJson: string, secret: string): string[] {
  const findings: string[] = [];
  const forms = secretForms(secret);
  for (const form of forms) if (historyJson.includes(form)) findings.push(`raw history contains ${JSON.stringify(form)}`);
  const visit = (value: unknown, path: string) => {
    if (typeof value === 'string') {
      // Payload data, stack traces and failure details are base64 in places: decode anything that looks like it.
      if (/^[A-Za-z0-9+/]{8,}={0,2}$/.test(value)) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        for (const form of forms) if (decoded.includes(form)) findings.push(`${path} (base64-decoded) contains ${JSON.stringify(form)}`);
      }
    } else if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${path}[${index}]`));
    else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) visit(item, `${path}.${key}`);
  };
  visit(JSON.parse(historyJson), '$');
  return findings;
}

export function historyJson(temporalBinary: string, address: string, namespace: string, workflowId: string): string {
  return execFileSync(temporalBinary, ['workflow', 'show', '--address', address, '--namespace', namespace, '--workflow-id', workflowId, '--output', 'json'], { encoding: 'utf8' });
}
