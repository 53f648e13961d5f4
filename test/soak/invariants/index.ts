// Every invariant the soak checks, by the name its findings carry.

export const INVARIANTS: Readonly<Record<string, string>> = {
  'pool-max': 'live (pending + running) ≤ size.max per pool when a cycle ends',
  'pool-max-peak': 'live ≤ size.max per pool at every moment of a cycle',
  growth:
    'live ≤ max(live before, desired) + replacement pairs in flight; a pair opens only within its budget by cause (retire, on-demand, move, canaries per image and region)',
  'unique-names': 'names (tag Name) unique among the fleet’s live instances',
  'no-drained-launch': 'no RunInstances with an AMI drained before the call',
  ownership: 'no call changes a resource without the fleet’s ownership tag',
  'no-retirement-on-bad-manifest':
    'while the manifest is unreadable or invalid, nothing current in the last good copy is retired unless the pool is above desired',
  'running-capacity': 'retirements never take running instances on launchable images below min(desired, before)',
  spread: 'once settled, no offer holds more than the spread cap (terminate pools)',
  'journal-keeps-refused': 'reconciler.json never keeps a launch EC2 refused for good',
  'no-escaping-exception': 'no exception escapes a cycle (other than the harness’s own ProcessKilled)',
  'stalled-leader-silent': 'a resumed stalled leader sends no mutating EC2 call after the other replica’s first launch',
  'takeover-converges':
    'after a takeover every pool reaches exactly desired (a none pool: at least), or is held at size.max by workers on their way out',
  'resend-same-parameters': 'an unconfirmed launch is re-sent only with the parameters it was first sent with',
  'no-phantom-shortfall':
    'a pool serving its desired count (a replacement pair once, one whose target is drained too) gets no launch that replaces nothing',
  'no-backwards-pair': 'no pair retires a worker on a current image while its replacement stays on an outdated one',
  'no-busy-termination':
    'no TerminateInstances of a worker every desired copy fleet could have read reported busy, before its fleet:retire deadline (drained images aside)',
  'retire-within-budget':
    'a cycle that asks a worker to leave for a replacement holds no more of that budget (asked + pairs) than it allows, or than was held before',
  'event-queue-drained':
    'every message on events.queue (EC2 events, malformed ones, second deliveries) is deleted within 5 minutes of being queued, or of the end of a state-store fault or takeover that held it up',
};
