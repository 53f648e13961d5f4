import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../domain/errors.js';

/**
 * A file a command will write, checked before any work: a bad path is a usage mistake (exit 2),
 * found at once rather than after a long run.
 */
export function checkOutputPath(path: string, flag: string): void {
  const full = resolve(path);
  const dir = dirname(full);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new InputError(`${flag} ${path}: directory ${dir} does not exist`);
  }
  if (!isDir) throw new InputError(`${flag} ${path}: ${dir} is not a directory`);
  try {
    if (statSync(full).isDirectory()) throw new InputError(`${flag} ${path}: is a directory, not a file`);
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`${flag} ${path}: directory ${dir} is not writable`);
  }
}
