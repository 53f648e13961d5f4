import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../../src/config/config.js';
import { queueUrlProblem, queueUrlRegion } from '../../../src/events/queue-url.js';
import { inputError } from '../../support/expect.js';

const QUEUE = 'https://sqs.us-west-2.amazonaws.com/123456789012/fleet-ec2-events';

describe('config: events.queue', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(os.tmpdir(), 'fleet-config-events-'));
    file = join(dir, 'fleet.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const load = (doc: unknown, env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(file, JSON.stringify(doc));
    return loadConfig(file, env);
  };

  it('is off (empty) by default', () => {
    expect(load({}).events).to.deep.equal({ queue: '' });
  });

  it('is read from the file, and FLEET_EVENTS_QUEUE wins over it', () => {
    expect(load({ events: { queue: QUEUE } }).events.queue).to.equal(QUEUE);
    const other = 'https://sqs.eu-central-1.amazonaws.com/210987654321/other';
    expect(load({ events: { queue: QUEUE } }, { FLEET_EVENTS_QUEUE: other }).events.queue).to.equal(other);
    expect(load({ events: { queue: QUEUE } }, { FLEET_EVENTS_QUEUE: '' }).events.queue).to.equal('');
  });

  it('accepts a custom endpoint (a VPC endpoint, a local SQS double)', () => {
    expect(load({ events: { queue: 'http://127.0.0.1:4566/000000000000/events' } }).events.queue).to.equal(
      'http://127.0.0.1:4566/000000000000/events',
    );
  });

  const bad: [string, unknown, RegExp][] = [
    ['not a URL', 'fleet-events', /not a URL/],
    ['another scheme', 'sqs://us-east-1/123456789012/q', /not an http\(s\) URL/],
    ['an AWS host without the account', 'https://sqs.us-east-1.amazonaws.com/fleet-events', /12-digit account/],
    ['an AWS host over http', 'http://sqs.us-east-1.amazonaws.com/123456789012/q', /https/],
    ['a custom endpoint naming no queue', 'http://localhost:4566/', /no queue named/],
    ['a number', 42, /must be a string/],
  ];
  for (const [what, value, reason] of bad) {
    it(`rejects ${what} with one line naming events.queue`, () => {
      const message = inputError(() => load({ events: { queue: value } }));
      expect(message)
        .to.match(/events\.queue/)
        .and.to.match(reason);
      expect(message).not.to.include('\n');
    });
  }

  it('rejects a bad FLEET_EVENTS_QUEUE too', () => {
    expect(inputError(() => load({}, { FLEET_EVENTS_QUEUE: 'nope' }))).to.match(/events\.queue/);
  });
});

describe('events: queue URLs', () => {
  it('the region is the one the AWS host names; custom endpoints name none', () => {
    expect(queueUrlRegion(QUEUE)).to.equal('us-west-2');
    expect(queueUrlRegion('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q')).to.equal('cn-north-1');
    expect(queueUrlRegion('https://eu-west-1.queue.amazonaws.com/123456789012/q')).to.equal('eu-west-1');
    expect(queueUrlRegion('https://queue.amazonaws.com/123456789012/q')).to.equal('us-east-1');
    expect(queueUrlRegion('http://127.0.0.1:4566/000000000000/q')).to.equal(undefined);
  });

  it('FIFO queue names are queue names', () => {
    expect(queueUrlProblem('https://sqs.us-east-1.amazonaws.com/123456789012/events.fifo')).to.equal(undefined);
  });
});
