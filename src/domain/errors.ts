/** Bad input from an operator or a publisher (config, policy, manifest, desired counts, arguments): exit 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}
