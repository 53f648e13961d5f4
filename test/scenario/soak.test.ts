import { expect } from 'chai';
import { runSeed, runSoak } from '../soak/index.js';

describe('scenario: chaos soak (npm run soak, small)', () => {
  it('4 seeds × 150 cycles of every fault find no violation', async function () {
    this.timeout(180_000);
    const results = await runSoak({ seeds: [1, 2, 3, 4], cycles: 150 });
    expect(results.flatMap((r) => r.violations.map((v) => `seed ${v.seed} cycle ${v.cycle} ${v.invariant}: ${v.detail}`))).to.deep.equal(
      [],
    );
  });

  it('replays a seed exactly: the same faults, effects and findings', async function () {
    this.timeout(60_000);
    const run = async () => {
      const { durationMs: _durationMs, ...rest } = await runSeed(4, 80);
      return rest;
    };
    const [first, second] = [await run(), await run()];
    expect(second).to.deep.equal(first);
    // It did inject faults, or replaying it would prove little.
    expect(Object.keys(first.injected).length).to.be.greaterThan(4);
    expect(first.effects['launches (RunInstances ok)']).to.be.greaterThan(0);
  });
});
