import { expect } from 'chai';
import { failedActions } from '../../../src/cli/commands/reconcile.js';
import type { CycleResult } from '../../../src/service/reconciler.js';
import type { LaunchAction, TerminateAction } from '../../../src/domain/actions.js';
import type { Failure } from '../../../src/domain/outcome.js';

const launch = { kind: 'launch', name: 'bld-linux64-spot-001' } as LaunchAction;
const terminate = { kind: 'terminate', instanceId: 'i-1' } as TerminateAction;
const failed = (failure: Failure) => ({ action: launch, failure });

describe('reconcile --once: which failed actions make it exit 1', () => {
  it('counts actions the cloud could not carry out or refused for good, by code', () => {
    const result: CycleResult = {
      dryRun: false,
      outcomes: [
        {
          launches: [
            failed({ kind: 'retryable', code: 'ECONNRESET', message: 'socket hang up' }),
            failed({ kind: 'rejected', code: 'UnauthorizedOperation', message: 'no' }),
          ],
          terminations: [],
        },
        {
          launches: [],
          terminations: [
            { action: terminate, terminated: false, failure: { kind: 'retryable', code: 'RequestLimitExceeded', message: 'slow down' } },
          ],
        },
      ],
    };
    expect(failedActions(result)).to.deep.equal(['ECONNRESET', 'UnauthorizedOperation', 'RequestLimitExceeded']);
  });

  it('leaves out capacity refusals, launches never sent, and what succeeded', () => {
    const result: CycleResult = {
      dryRun: false,
      outcomes: [
        {
          launches: [
            failed({ kind: 'capacity', code: 'InsufficientInstanceCapacity', message: 'none' }),
            failed({ kind: 'capacity', code: 'InsufficientInstanceCapacity', message: 'not attempted', unsent: true }),
            failed({ kind: 'retryable', code: 'Deferred', message: 'the launch bucket is empty: next cycle', unsent: true }),
            { action: launch, instance: { id: 'i-2' } as never },
          ],
          terminations: [{ action: terminate, terminated: true }],
        },
      ],
    };
    expect(failedActions(result)).to.deep.equal([]);
  });
});
