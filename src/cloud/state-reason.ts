import type { EndCause } from '../domain/types.js';

/** Why an instance ended, from EC2's state reason code. */
export function endCauseOf(code: string | undefined): EndCause | undefined {
  if (!code) return undefined;
  if (code === 'Server.SpotInstanceTermination') return 'spot-interruption';
  if (code === 'Client.UserInitiatedShutdown') return 'user';
  if (code === 'Client.InstanceInitiatedShutdown') return 'instance-initiated';
  return 'other';
}
