import { expect } from 'chai';
import { FleetMetrics } from '../../../src/service/metrics.js';

describe('metrics: fleet_events_total', () => {
  it('starts every kind and result at zero, then counts what each poll dealt with', async () => {
    const metrics = new FleetMetrics();
    const zero = await metrics.metrics();
    for (const series of [
      'fleet_events_total{kind="interruption-warning",result="handled"} 0',
      'fleet_events_total{kind="rebalance-recommendation",result="handled"} 0',
      'fleet_events_total{kind="state-change",result="handled"} 0',
      'fleet_events_total{kind="unknown",result="malformed"} 0',
      'fleet_events_total{kind="unknown",result="foreign"} 0',
    ]) {
      expect(zero).to.include(series);
    }
    metrics.observeEvents({
      received: 6,
      warnings: 2,
      tally: [
        { kind: 'interruption-warning', result: 'handled', count: 2 },
        { kind: 'state-change', result: 'handled', count: 3 },
        { kind: 'unknown', result: 'malformed', count: 1 },
      ],
    });
    metrics.observeEvents({ received: 1, warnings: 0, tally: [{ kind: 'state-change', result: 'handled', count: 1 }] });
    const text = await metrics.metrics();
    expect(text).to.include('fleet_events_total{kind="interruption-warning",result="handled"} 2');
    expect(text).to.include('fleet_events_total{kind="state-change",result="handled"} 4');
    expect(text).to.include('fleet_events_total{kind="unknown",result="malformed"} 1');
    expect(text).to.include('fleet_events_total{kind="unknown",result="foreign"} 0');
    expect(text).to.include('# TYPE fleet_events_total counter');
  });
});
