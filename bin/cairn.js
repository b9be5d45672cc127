#!/usr/bin/env node
// The CLI is TypeScript run through tsx so that a clone works without a build step.
import { register } from 'tsx/esm/api';

register();
try {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Commands print their own errors; this is the last line of defence: a message, never a stack trace.
  process.stderr.write(`cairn: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.argv.includes('--debug') && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
