/**
 * Sleep: waits for `duration`, heartbeating every second with the time already slept, so an attempt that
 * replaces a crashed one sleeps only the remainder.
 */
import { parseDuration } from '../../src/duration.ts';
import type { CairnFunction } from './types.ts';
import { pause } from './pause.ts';

export const Sleep: CairnFunction = {
  name: 'Sleep',
  async run({ args, heartbeat, previousHeartbeat, signal }) {
    const totalMs = parseDuration(String(args.duration)) ?? 0;
    const resumedMs = typeof previousHeartbeat === 'object' && previousHeartbeat !== null && !Array.isArray(previousHeartbeat) ? Number(previousHeartbeat.sleptMs ?? 0) : 0;
    let sleptMs = Math.min(resumedMs, totalMs);
    while (sleptMs < totalMs) {
      const step = Math.min(1000, totalMs - sleptMs);
      await pause(step, signal);
      sleptMs += step;
      heartbeat({ sleptMs, totalMs });
    }
    return { sleptMs: totalMs - Math.min(resumedMs, totalMs), resumedFromMs: Math.min(resumedMs, totalMs) };
  },
};
