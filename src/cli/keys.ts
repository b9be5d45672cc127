import { userInfo } from 'node:os';
import { cliAuditLog } from '../audit/audit-log.ts';
import { createKekFile, kekId, loadKek, readKekFile } from '../../activities/location/envelope.ts';
import { checkKeys } from '../../activities/location/key-status.ts';
import { openNamedLocation } from '../../activities/location/location.ts';
import { defaultKekFile } from '../../activities/location/profiles.ts';
import { repositoriesWithKeys, rotateKeys } from '../../activities/location/rotate.ts';
import { kubeClients } from '../kube/clients.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';

const HELP = `Usage: cairn keys <rotate|generate|status> [options]

Manages the key-encryption key (KEK) that wraps each repository's password (its DEK) in a location. Keys are
never printed: only their ids (16 hex digits of a hash) appear.

  cairn keys generate <file>
      Writes a new random KEK to <file> (mode 0600; an existing file is never replaced).

  cairn keys rotate --new-kek-file <file> [--kek-file <file>] [--profile <name>]
      Re-wraps every repository's DEK in the profile's location under the new KEK; the data is not
      re-encrypted. Each key file is replaced whole after the new wrapping was checked, so an interrupted
      rotation is finished by running the same command again. Afterwards give the workers the new KEK.

  cairn keys status [--kek-file <file>] [--profile <name>]
      Lists the repositories of the location and whether the KEK opens each one's key file.

Options:
      --profile <name>       the location profile (default: default, the embedded location)
      --kek-file <file>      the current KEK (default: CAIRN_KEK, CAIRN_KEK_FILE, else .cairn/kek)
      --new-kek-file <file>  rotate: the KEK to re-wrap under (create one with 'cairn keys generate')
  -o, --output <format>      text (default) or json
      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Progress goes to stderr. Exit status: 0 ok, 1 failed (a repository could not be rotated or opened), 2 usage error.
`;

export const keysCommand = defineCommand(
  {
    name: 'keys',
    help: HELP,
    flags: {
      profile: { type: 'string' },
      'kek-file': { type: 'string' },
      'new-kek-file': { type: 'string' },
    },
  },
  async ({ values, positionals, format }, io) => {
    const [sub, ...rest] = positionals;
    const print = (json: unknown, text: string) => io.stdout(format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : text);

    if (sub === 'generate') {
      if (rest.length !== 1) throw new UsageError('name the file to write the new KEK to: cairn keys generate <file>');
      const kek = await createKekFile(rest[0]!).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') throw new Error(`${rest[0]} exists; a KEK file is never replaced`);
        throw error;
      });
      print({ file: rest[0], kek: kekId(kek) }, `wrote a new KEK to ${rest[0]} (id ${kekId(kek)})\n`);
      return EXIT_OK;
    }
    if (sub !== 'rotate' && sub !== 'status') throw new UsageError(sub === undefined ? 'name a subcommand: rotate, generate or status' : `unknown subcommand "${sub}" (rotate, generate, status)`);
    if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
    if (sub === 'rotate' && !values['new-kek-file']) throw new UsageError('--new-kek-file is required (create one with: cairn keys generate <file>)');
    if (sub === 'status' && values['new-kek-file']) throw new UsageError('--new-kek-file belongs to rotate');

    const current = values['kek-file'] ? await readKekFile(values['kek-file']) : await loadKek(defaultKekFile(), { create: false });
    const location = await openNamedLocation(values.profile, () => kubeClients());

    if (sub === 'status') {
      const status = await checkKeys(location, current);
      print(
        { profile: location.profile.name, location: location.label, kek: kekId(current), repositories: status },
        `${location.label}, KEK ${kekId(current)}\n${status.map((r) => `  ${r.application.padEnd(30)} ${r.opens ? 'opens' : `does not open (wrapped under ${r.wrappedUnder ?? 'unknown KEK'})`}\n`).join('') || '  no repositories\n'}`,
      );
      return status.every((r) => r.opens) ? EXIT_OK : EXIT_FAILED;
    }

    const next = await readKekFile(values['new-kek-file']!);
    const total = (await repositoriesWithKeys(location)).length;
    io.stderr(`rotating ${total} repositor${total === 1 ? 'y' : 'ies'} in ${location.label} from KEK ${kekId(current)} to KEK ${kekId(next)}\n`);
    const result = await rotateKeys(location, current, next, (done, all, repository) =>
      io.stderr(`[${done}/${all}] ${repository.application}: ${repository.state}${repository.error ? `: ${repository.error}` : ''}\n`),
    );
    const failed = result.repositories.filter((r) => r.state === 'failed');
    const count = (state: string) => result.repositories.filter((r) => r.state === state).length;
    // Rotation acts on the location, not through the cluster: the operator is the local account running it.
    cliAuditLog().record({
      who: { user: `os:${userInfo().username}` },
      action: 'key.rotate',
      what: { fromKek: kekId(current), toKek: kekId(next), rotated: String(count('rotated')), failed: String(failed.length) },
      where: { profile: location.profile.name, location: location.label },
      outcome: failed.length ? 'failed' : 'succeeded',
      ...(failed.length ? { reason: `${failed.length} repositor${failed.length === 1 ? 'y' : 'ies'} could not be rotated` } : {}),
    });
    print(
      { profile: location.profile.name, location: location.label, ...result },
      `${count('rotated')} rotated, ${count('already-rotated')} already under the new KEK, ${failed.length} failed\n${failed.length ? 'run the same command again after fixing the failures\n' : 'give the workers the new KEK now (CAIRN_KEK_FILE)\n'}`,
    );
    return failed.length ? EXIT_FAILED : EXIT_OK;
  },
);
