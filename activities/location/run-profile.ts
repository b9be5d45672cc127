/**
 * The run's profile inside one phase. The phase runner resolves the profile named by the run (a name only:
 * credentials never travel with it) and puts its location into the template (`Profile`); functions that move
 * data get the same profile back from the template through `profileOf`, and resolve credentials themselves.
 */
import type { KubeClients } from '../../src/kube/clients.ts';
import { profileContext, type LocationProfile } from '../../src/location/profile.ts';
import type { TemplateContext } from '../../src/template/context.ts';
import { profileSources, resolveProfile } from './profiles.ts';

const attached = new WeakMap<TemplateContext, LocationProfile>();

export function attachProfile(template: TemplateContext, profile: LocationProfile): void {
  attached.set(template, profile);
  template.Profile = profileContext(profile);
}

/** The profile the phase runner resolved for this template; else the one its `Profile.name` names. */
export async function profileOf(template: TemplateContext, kube?: () => KubeClients): Promise<LocationProfile> {
  return attached.get(template) ?? resolveProfile(template.Profile?.name, profileSources(kube));
}
