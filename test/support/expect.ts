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
