import { type DatabaseEngine, imageRepository } from './engine.ts';
import { etcd } from './etcd.ts';
import { mariadb } from './mariadb.ts';
import { mongodb } from './mongodb.ts';
import { postgresql } from './postgresql.ts';
import { redis } from './redis.ts';

export type { DatabaseContext, DatabaseEngine, DatabaseServer } from './engine.ts';

/** The databases the runtime plays with real servers; any other image runs its command as a process. */
export const DATABASE_ENGINES: DatabaseEngine[] = [postgresql, mariadb, redis, etcd, mongodb];

export function databaseEngineFor(image: string | undefined): DatabaseEngine | undefined {
  if (!image) return undefined;
  const repository = imageRepository(image);
  return DATABASE_ENGINES.find((engine) => engine.matches(repository));
}
