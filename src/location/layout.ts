/**
 * The layout of a location (a filesystem root or an S3 bucket prefix), the same for every backend so that a
 * location copied from one to the other still reads. Keys are relative to the location root, '/'-separated.
 *
 *   repositories/<application>/kopia/      one kopia repository per (location, application)
 *   repositories/<application>/key.json    its password (DEK) wrapped under the KEK
 *   restore-points/<application>/<id>.json one manifest per successful backup, written last
 */
export const REPOSITORIES_DIR = 'repositories';
export const RESTORE_POINTS_DIR = 'restore-points';

const APPLICATION = /^[a-z0-9][-a-z0-9.]{0,252}$/;

export function isApplicationName(name: string): boolean {
  return APPLICATION.test(name) && !name.includes('..');
}

export function checkApplication(name: string): string {
  if (!isApplicationName(name)) throw new Error(`invalid application name "${name}": lower-case letters, digits, "-" and "."`);
  return name;
}

export function repositoryDir(application: string): string {
  return `${REPOSITORIES_DIR}/${checkApplication(application)}/`;
}

export function kopiaDir(application: string): string {
  return `${repositoryDir(application)}kopia/`;
}

export function keyFileKey(application: string): string {
  return `${repositoryDir(application)}key.json`;
}

export function restorePointsDir(application?: string): string {
  return application === undefined ? `${RESTORE_POINTS_DIR}/` : `${RESTORE_POINTS_DIR}/${checkApplication(application)}/`;
}

export function restorePointKey(application: string, id: string): string {
  return `${restorePointsDir(application)}${id}.json`;
}

/** The identity a repository's wrapped key is bound to (the AES-GCM associated data): the location may move. */
export function repositoryIdentity(application: string): string {
  return `cairn:${application}`;
}
