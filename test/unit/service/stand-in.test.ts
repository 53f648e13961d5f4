// An idle worker that stands in for a busy pair target: the replacement's `fleet:replaces` is
// re-pointed to it first, and it is terminated only once that tag is written.

import { expect } from 'chai';
import type { GuardedCloud } from '../../../src/cloud/guarded-cloud.js';
import type { LaunchSlot } from '../../../src/cloud/port.js';
import type { TerminateAction } from '../../../src/domain/actions.js';
import { terminateAction } from '../../../src/plan/action-builders.js';
import { applyOutcome } from '../../../src/plan/apply-outcome.js';
import { execute } from '../../../src/service/execute.js';
import { silentLogger } from '../../../src/service/logger.js';
import { instance, snapshot } from '../../support/builders.js';

/** A cloud that records CreateTags and TerminateInstances in order, and refuses the tags of `refused` replacements. */
function recordingCloud(refused: ReadonlySet<string> = new Set()) {
  const calls: string[] = [];
  const cloud = {
    compute: () => ({
      nameInstance: async (id: string, slot: LaunchSlot) => {
        if (refused.has(id))
          throw Object.assign(new Error('not authorised'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });
        calls.push(`tag ${id} ${slot.name} replaces=${slot.replaces} cause=${slot.cause}`);
      },
      terminate: async (_fleet: string, ids: readonly string[]) => {
        calls.push(`terminate ${ids.join(' ')}`);
        return [...ids];
      },
    }),
  } as unknown as GuardedCloud;
  return { cloud, calls };
}

function standingIn(replacementId: string, replacementName: string): TerminateAction {
  const idle = instance({ ami: 'ami-old' });
  return {
    ...terminateAction(idle, 0.1, 'outdated', 'replaced, in place of a busy worker'),
    standsInFor: { replacement: replacementId, replacementName, cause: 'outdated', busy: 'i-busy' },
  };
}

describe('execute: an idle worker standing in for a busy pair target', () => {
  it("re-points the replacement's pair to it, then terminates it", async () => {
    const { cloud, calls } = recordingCloud();
    const action = standingIn('i-repl', 'bld-linux64-spot-009');
    const { outcome } = await execute([], [action], { cloud, fleet: 'releng', log: silentLogger() });
    expect(calls).to.deep.equal([
      `tag i-repl bld-linux64-spot-009 replaces=${action.instanceId} cause=outdated`,
      `terminate ${action.instanceId}`,
    ]);
    expect(outcome.terminations).to.deep.equal([{ action, terminated: true, repointed: true }]);
  });

  it('leaves it running when the tag is refused; other terminations go ahead', async () => {
    const { cloud, calls } = recordingCloud(new Set(['i-repl']));
    const action = standingIn('i-repl', 'bld-linux64-spot-009');
    const plain = terminateAction(instance(), 0.1, 'scale-down', 'scale-down');
    const { outcome } = await execute([], [action, plain], { cloud, fleet: 'releng', log: silentLogger() });
    expect(calls).to.deep.equal([`terminate ${plain.instanceId}`]);
    const refused = outcome.terminations.find((o) => o.action === action);
    expect(refused).to.deep.include({ terminated: false, repointed: false });
    expect(refused?.failure).to.include({ kind: 'rejected', code: 'UnauthorizedOperation' });
    expect(outcome.terminations.find((o) => o.action === plain)).to.deep.equal({ action: plain, terminated: true });
  });
});

describe('execute: other terminations beside a stand-in', () => {
  it("go at once, without waiting for the stand-in's tag: a worker the list showed idle may take a job any second", async () => {
    const calls: string[] = [];
    let release: () => void = () => undefined;
    const tagged = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cloud = {
      compute: () => ({
        nameInstance: async (id: string) => {
          await tagged;
          calls.push(`tag ${id}`);
        },
        terminate: async (_fleet: string, ids: readonly string[]) => {
          calls.push(`terminate ${ids.join(' ')}`);
          return [...ids];
        },
      }),
    } as unknown as GuardedCloud;
    const action = standingIn('i-repl', 'bld-linux64-spot-009');
    const plain = terminateAction(instance(), 0.1, 'scale-down', 'scale-down');
    const done = execute([], [action, plain], { cloud, fleet: 'releng', log: silentLogger() });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).to.deep.equal([`terminate ${plain.instanceId}`]);
    release();
    await done;
    expect(calls).to.deep.equal([`terminate ${plain.instanceId}`, 'tag i-repl', `terminate ${action.instanceId}`]);
  });
});

describe('the next round of a cycle after a stand-in', () => {
  it("sees the replacement's pair re-pointed where the tag was written, and unchanged where it was not", () => {
    const busy = instance({ ami: 'ami-old' });
    const idle = instance({ ami: 'ami-old' });
    const replacement = instance({ replaces: busy.id, cause: 'outdated' });
    const action: TerminateAction = {
      ...terminateAction(idle, 0.1, 'outdated', 'in place of a busy worker'),
      standsInFor: { replacement: replacement.id, replacementName: replacement.name, cause: 'outdated', busy: busy.id },
    };
    const before = snapshot({ instances: [busy, idle, replacement] });
    const after = applyOutcome(before, { launches: [], terminations: [{ action, terminated: true, repointed: true }] }, [], {});
    expect(after.instances.find((i) => i.id === replacement.id)?.replaces).to.equal(idle.id);
    expect(after.instances.find((i) => i.id === idle.id)?.state).to.equal('shutting-down');
    const refused = applyOutcome(
      before,
      {
        launches: [],
        terminations: [{ action, terminated: false, repointed: false, failure: { kind: 'rejected', code: 'X', message: 'x' } }],
      },
      [],
      {},
    );
    expect(refused.instances.find((i) => i.id === replacement.id)?.replaces).to.equal(busy.id);
  });
});
