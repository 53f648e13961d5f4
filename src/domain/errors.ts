/** Bad input from an operator or a publisher (config, policy, manifest, desired counts, arguments): exit 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** A command that could not do its job for a reason it can state in one line: exit 1. */
export class RuntimeFailure extends Error {
  override readonly name = 'RuntimeFailure';
}
