import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { parse } from 'yaml';

interface Service {
  image: string;
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  command?: string[];
}

const compose = parse(readFileSync(join(import.meta.dirname, '../../temporal.docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };

it('runs the Temporal server on PostgreSQL with its Web UI, on the ports Cairn uses by default', () => {
  const { services } = compose;
  assert.deepEqual(Object.keys(services).sort(), ['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui']);
  assert.match(services.postgresql!.image, /^postgres:/);
  assert.match(services.temporal!.image, /^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
  assert.equal(services.temporal!.environment?.DB, 'postgres12');
  assert.deepEqual(services.temporal!.ports, ['127.0.0.1:7233:7233']);
  assert.deepEqual(services['temporal-ui']!.ports, ['127.0.0.1:8233:8080']);
  assert.deepEqual(services.temporal!.depends_on, { postgresql: { condition: 'service_healthy' } });
});

it("registers Cairn's search attributes", () => {
  const command = compose.services['temporal-admin-tools']!.command!.join(' ');
  for (const attribute of ['CairnBlueprint', 'CairnAction', 'CairnTarget', 'CairnNamespace', 'CairnOutcome']) {
    assert.ok(command.includes(attribute), `${attribute} is registered`);
  }
});
