/** Every workflow the Cairn worker serves. Workflow types are these export names. */
export { runAction, progressQuery } from './runAction.ts';
export { backup, restore } from './typed.ts';
export { backupApplication } from './backupApplication.ts';
export { restoreApplication } from './restoreApplication.ts';
export { retireRestorePoints } from './retire.ts';
export { verifyRepository } from './verify.ts';
export { drillApplication, drillProgressQuery } from './drill.ts';
