import { expect } from 'chai';
import { plan } from '../../src/plan/plan.js';
import { T0, instance, policy, snapshot } from '../support/builders.js';

const POOL = 'bld-linux64';

describe('plan: desired from queue facts', () => {
  it('works desired out with the estimator when the document gives queue facts without a count', () => {
    const p = policy({ demand: { minIdle: 2 } });
    const result = plan(snapshot({ desired: { [POOL]: 35 }, demand: { [POOL]: { pending: 5, running: 30 } } }), [p], 'releng');
    const report = result.pools[0];
    expect(report?.desired).to.equal(37);
    expect(report?.demand?.explanation).to.equal('pending 5 + running 30 ×1 + minIdle 2 = 37');
    expect(result.timers[POOL]?.demand).to.deep.equal({ held: 37 });
  });

  it('uses an explicit desired as given (clamped), with no estimate', () => {
    const p = policy({ size: { min: 0, max: 10 }, demand: { minIdle: 2 } });
    const result = plan(snapshot({ desired: { [POOL]: 50 }, demand: { [POOL]: { desired: 50, pending: 5 } } }), [p], 'releng');
    expect(result.pools[0]?.desired).to.equal(10);
    expect(result.pools[0]?.demand).to.equal(undefined);
    expect(result.timers[POOL]?.demand).to.equal(undefined);
  });

  it('holds the estimate through idleTimeout with the memory the timers carry, then lets it fall', () => {
    const p = policy({ demand: { idleTimeout: 600 } });
    const workers = [0, 1, 2, 3].map(() => instance({ ami: 'ami-new' }));
    const first = plan(
      snapshot({ instances: workers, desired: { [POOL]: 4 }, demand: { [POOL]: { pending: 0, running: 4 } } }),
      [p],
      'releng',
    );
    expect(first.pools[0]?.desired).to.equal(4);
    const quiet = (now: number, timers: typeof first.timers) =>
      plan(
        snapshot({ now, instances: workers, timers, desired: { [POOL]: 0 }, demand: { [POOL]: { pending: 0, running: 0 } } }),
        [p],
        'releng',
      );
    const held = quiet(T0 + 60_000, first.timers);
    expect(held.pools[0]?.desired).to.equal(4);
    expect(held.pools[0]?.demand?.holdingUntil).to.equal(T0 + 60_000 + 600_000);
    expect(held.pools[0]?.demand?.idle).to.equal(4);
    expect(held.actions).to.deep.equal([]);
    const later = quiet(T0 + 60_000 + 600_000, held.timers);
    expect(later.pools[0]?.desired).to.equal(0);
  });

  it('holds nothing in a pool whose workers leave by themselves (scaleDown none): a held estimate would only relaunch them', () => {
    const p = policy({ scaleDown: 'none', demand: { idleTimeout: 600 } });
    const workers = [0, 1, 2, 3].map(() => instance({ ami: 'ami-new' }));
    const busy = plan(
      snapshot({ instances: workers, desired: { [POOL]: 4 }, demand: { [POOL]: { pending: 0, running: 4 } } }),
      [p],
      'releng',
    );
    const quiet = plan(
      snapshot({
        now: T0 + 60_000,
        instances: workers.slice(0, 2),
        timers: busy.timers,
        desired: { [POOL]: 0 },
        demand: { [POOL]: { pending: 0, running: 1 } },
      }),
      [p],
      'releng',
    );
    expect(quiet.pools[0]?.desired).to.equal(1);
    expect(quiet.pools[0]?.demand?.holdingUntil).to.equal(undefined);
    expect(quiet.actions.filter((a) => a.kind === 'launch')).to.deep.equal([]);
  });

  describe('a pool whose source of demand has no answer', () => {
    const sourced = policy({ scaleDownAfter: 0, demand: { source: { github: { labels: ['bld'] } } } });
    const workers = () => [0, 1, 2].map(() => instance({ ami: 'ami-new' }));

    it('holds what the estimator held before (kept in the timers)', () => {
      const result = plan(
        snapshot({ instances: workers(), desired: {}, timers: { [POOL]: { demand: { held: 5 } } } }),
        [sourced],
        'releng',
      );
      expect(result.pools[0]?.desired).to.equal(5);
      expect(result.timers[POOL]?.demand).to.deep.equal({ held: 5 });
    });

    it('keeps the workers it has when nothing is held: no answer never scales down', () => {
      const result = plan(snapshot({ instances: workers(), desired: {} }), [sourced], 'releng');
      expect(result.pools[0]?.desired).to.equal(3);
      expect(result.actions).to.deep.equal([]);
    });
  });
});
