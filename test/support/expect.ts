import { expect } from 'chai';
import { InputError } from '../../src/domain/errors.js';

/** Runs `fn`, expects an InputError, and returns its message. */
export function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(InputError);
    return (e as Error).message;
  }
  expect.fail('expected an InputError');
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  expect.fail('expected a rejection');
}
