/**
 * The archive format of BackupData and CopyVolumeData: a tar stream, the one file of its kopia snapshot.
 * Members are named by their path relative to `/` (`var/log/app.log` for includePath `/var/log`), so that
 * RestoreData's `restorePath` means what it means for Kanister, whose restic keeps absolute paths: the backed
 * up path is recreated under `restorePath`, and the default `/` puts it back where it was.
 *
 * Only POSIX tar options that both GNU tar and BusyBox tar accept are used (images differ).
 */
import { posix } from 'node:path';
import { shellQuote } from './exec-target.ts';
import { PermanentFunctionError } from './types.ts';

export const TAR_FILE = 'data.tar';

/** An absolute, normalised path from argument `arg`, or a PermanentFunctionError naming it. */
export function absolutePathArg(arg: string, value: unknown): string {
  const text = String(value ?? '');
  if (!text.startsWith('/')) throw new PermanentFunctionError(`${arg} must be an absolute path, got "${text}"`);
  return posix.normalize(text).replace(/(.)\/+$/, '$1');
}

/** `tar` writing `path` (absolute) to stdout. */
export function tarCreateCommand(path: string): string[] {
  const member = path === '/' ? '.' : path.replace(/^\/+/, '');
  return ['tar', '-c', '-f', '-', '-C', '/', member];
}

/**
 * A `sh -c` fragment extracting stdin under `restorePath`: creates it, then extracts with umask 0 so that
 * modes come back as archived also when the container does not run as root, and with numeric owners so
 * that files keep their uid/gid whatever the image's /etc/passwd says. Braced: it follows a pipe.
 */
export function tarExtractScript(restorePath: string): string {
  const target = shellQuote(restorePath);
  return `{ mkdir -p ${target} && umask 0 && tar -x --numeric-owner -f - -C ${target}; }`;
}
