import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import fc from 'fast-check';
import { CloudError, classify, type ErrorClass } from '../../../src/cloud/errors.js';

/** An EC2 error the way SDK v3 builds it: name = the AWS code. */
const ec2 = (code: string, status: number, message = `${code} happened`) =>
  new EC2ServiceException({ name: code, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });
const s3 = (code: string, status: number) =>
  new S3ServiceException({ name: code, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: code });
/** A Node system error (socket, DNS). */
const system = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });

describe('cloud errors: classify', () => {
  const cases: [string, unknown, ErrorClass][] = [
    // throttling
    ['EC2 RequestLimitExceeded (503)', ec2('RequestLimitExceeded', 503), 'throttled'],
    ['ThrottlingException', ec2('ThrottlingException', 400), 'throttled'],
    ['Throttling', ec2('Throttling', 400), 'throttled'],
    ['S3 SlowDown (503)', s3('SlowDown', 503), 'throttled'],
    ['any 429', ec2('SomethingNew', 429), 'throttled'],
    // capacity
    ['InsufficientInstanceCapacity', ec2('InsufficientInstanceCapacity', 500), 'capacity'],
    ['MaxSpotInstanceCountExceeded', ec2('MaxSpotInstanceCountExceeded', 400), 'capacity'],
    ['SpotMaxPriceTooLow', ec2('SpotMaxPriceTooLow', 400), 'capacity'],
    ['InsufficientFreeAddressesInSubnet', ec2('InsufficientFreeAddressesInSubnet', 400), 'capacity'],
    ['VcpuLimitExceeded', ec2('VcpuLimitExceeded', 400), 'capacity'],
    ['Unsupported (type not offered in the AZ)', ec2('Unsupported', 400), 'capacity'],
    // not found
    ['InvalidInstanceID.NotFound', ec2('InvalidInstanceID.NotFound', 400), 'not-found'],
    ['InvalidAMIID.NotFound', ec2('InvalidAMIID.NotFound', 400), 'not-found'],
    ['S3 NoSuchKey', new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }), 'not-found'],
    ['S3 NoSuchBucket', s3('NoSuchBucket', 404), 'not-found'],
    ['S3 HeadObject NotFound', s3('NotFound', 404), 'not-found'],
    ['any 404', ec2('Whatever', 404), 'not-found'],
    // permission
    ['UnauthorizedOperation', ec2('UnauthorizedOperation', 403), 'permission'],
    ['AuthFailure', ec2('AuthFailure', 401), 'permission'],
    ['S3 AccessDenied', s3('AccessDenied', 403), 'permission'],
    ['ExpiredToken', ec2('ExpiredToken', 400), 'permission'],
    [
      'CredentialsProviderError (no status)',
      Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }),
      'permission',
    ],
    ['any 403', ec2('Nope', 403), 'permission'],
    // conflict
    ['S3 PreconditionFailed (412)', s3('PreconditionFailed', 412), 'conflict'],
    ['S3 ConditionalRequestConflict (409)', s3('ConditionalRequestConflict', 409), 'conflict'],
    ['any 412', s3('Other', 412), 'conflict'],
    // transient
    ['InternalError (500)', ec2('InternalError', 500), 'transient'],
    ['ServiceUnavailable (503)', s3('ServiceUnavailable', 503), 'transient'],
    ['an unknown 502', ec2('BadGateway', 502), 'transient'],
    ['ECONNRESET', system('ECONNRESET'), 'transient'],
    ['ECONNREFUSED', system('ECONNREFUSED'), 'transient'],
    ['ETIMEDOUT', system('ETIMEDOUT'), 'transient'],
    ['EAI_AGAIN', system('EAI_AGAIN'), 'transient'],
    ['the SDK TimeoutError', Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }), 'transient'],
    [
      'AbortSignal.timeout (DOMException code 23)',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      'transient',
    ],
    ['fetch failed, caused by ECONNREFUSED', new TypeError('fetch failed', { cause: system('ECONNREFUSED') }), 'transient'],
    [
      'fetch failed, caused by an undici socket error',
      new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }),
      'transient',
    ],
    // invalid
    ['InvalidParameterValue (400)', ec2('InvalidParameterValue', 400), 'invalid'],
    ['InvalidAMIID.Malformed', ec2('InvalidAMIID.Malformed', 400), 'invalid'],
    ['IdempotentParameterMismatch', ec2('IdempotentParameterMismatch', 400), 'invalid'],
    ['MissingParameter', ec2('MissingParameter', 400), 'invalid'],
    ['any other 400', ec2('SomethingElse', 400), 'invalid'],
    ['InvalidParameterCombination with no status', Object.assign(new Error('bad'), { name: 'InvalidParameterCombination' }), 'invalid'],
    // fatal
    ['a plain Error', new Error('boom'), 'fatal'],
    ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 'x')"), 'fatal'],
    ['fetch failed with a cause that says nothing', new TypeError('fetch failed', { cause: new Error('bad port') }), 'fatal'],
    ['a thrown string', 'something broke', 'fatal'],
    ['undefined', undefined, 'fatal'],
    ['null', null, 'fatal'],
  ];
  for (const [what, err, expected] of cases) {
    it(`${what} → ${expected}`, () => {
      const c = classify(err);
      expect(c).to.be.instanceOf(CloudError);
      expect(c.errorClass).to.equal(expected);
    });
  }

  it('prefers Code over name (XML errors)', () => {
    const e = Object.assign(new Error('Request limit exceeded.'), { name: 'Error', Code: 'RequestLimitExceeded' });
    expect(classify(e)).to.include({ errorClass: 'throttled', code: 'RequestLimitExceeded' });
  });

  it('the code names the AWS code, the status is kept', () => {
    const c = classify(ec2('InsufficientInstanceCapacity', 500));
    expect(c.code).to.equal('InsufficientInstanceCapacity');
    expect(c.httpStatus).to.equal(500);
  });

  it('reads the status from $response when $metadata has none', () => {
    const e = Object.assign(new Error('x'), { name: 'Odd', $response: { statusCode: 503 } });
    expect(classify(e)).to.include({ errorClass: 'transient', httpStatus: 503 });
  });

  it('takes a system error code as the code', () => {
    expect(classify(system('ECONNRESET')).code).to.equal('ECONNRESET');
  });

  it('ignores a numeric code and falls back to the name', () => {
    expect(classify(Object.assign(new Error('x'), { name: 'TimeoutError', code: '23' })).code).to.equal('TimeoutError');
  });

  it('a fetch failure keeps both messages and the cause code', () => {
    const c = classify(new TypeError('fetch failed', { cause: system('ECONNREFUSED') }));
    expect(c.code).to.equal('ECONNREFUSED');
    expect(c.message).to.include('fetch failed').and.include('ECONNREFUSED');
  });

  it('a cause never overrides an error that classifies itself', () => {
    const e = Object.assign(ec2('InvalidParameterValue', 400), { cause: system('ECONNRESET') });
    expect(classify(e).errorClass).to.equal('invalid');
  });

  it('survives a cause that points back at itself', () => {
    const e = new Error('loop') as Error & { cause?: unknown };
    e.cause = e;
    expect(classify(e).errorClass).to.equal('fatal');
  });

  it('keeps only the first line of a message', () => {
    expect(classify(new Error('first line\n    at stack frame\n    at another')).message).to.equal('first line');
  });

  it('uses the code as the message when there is none', () => {
    expect(classify(ec2('InternalError', 500, '')).message).to.equal('InternalError');
  });

  it('a thrown string becomes the message', () => {
    expect(classify('something broke').message).to.equal('something broke');
  });

  it('returns a CloudError unchanged', () => {
    const original = new CloudError('capacity', 'InsufficientInstanceCapacity', 'no c5 today');
    expect(classify(original)).to.equal(original);
  });

  it('retryable is true for throttled and transient only', () => {
    const classes: ErrorClass[] = ['throttled', 'transient', 'capacity', 'not-found', 'permission', 'conflict', 'invalid', 'fatal'];
    expect(classes.filter((c) => new CloudError(c, 'X', 'x').retryable)).to.deep.equal(['throttled', 'transient']);
  });

  it('property: any 5xx with an unknown code is transient, any other 4xx (not 403/404/412/429) is invalid', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const c = classify(ec2('NeverHeardOfIt', status));
        const expected: ErrorClass =
          status >= 500
            ? 'transient'
            : status === 429
              ? 'throttled'
              : status === 412
                ? 'conflict'
                : status === 403
                  ? 'permission'
                  : status === 404
                    ? 'not-found'
                    : 'invalid';
        expect(c.errorClass).to.equal(expected);
      }),
    );
  });

  it('a thrown object whose message is not a string still classifies, with a string code', () => {
    for (const thrown of [{ message: 42 }, { message: { text: 'nested' } }, { name: 5 }, { Code: 7 }]) {
      const c = classify(thrown);
      expect(c.errorClass).to.equal('fatal');
      expect(c.code).to.be.a('string');
      expect(c.message).to.be.a('string');
    }
  });

  it('property: classify never throws and always returns a CloudError', () => {
    const errorLike = fc.record(
      {
        name: fc.anything(),
        message: fc.anything(),
        code: fc.anything(),
        Code: fc.anything(),
        $metadata: fc.anything(),
        cause: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), errorLike), (thrown) => {
        const c = classify(thrown);
        expect(c).to.be.instanceOf(CloudError);
        expect(c.code).to.be.a('string');
        expect(c.message).to.be.a('string');
      }),
    );
  });
});
