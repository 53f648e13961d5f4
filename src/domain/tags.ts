// The tags fleet writes on its instances: what a worker reads from its own metadata at boot.

/** ownership: fleet never changes a resource without its own value here */
export const MANAGED_BY_TAG = 'fleet:managed-by';
export const POOL_TAG = 'fleet:pool';
export const REPLACES_TAG = 'fleet:replaces';
/** why a replacement was launched: its budget follows from it while the pair is in flight */
export const CAUSE_TAG = 'fleet:cause';
/** the slot name of one instance */
export const NAME_TAG = 'Name';
/** the slot names of a batched launch, in launch-index order (policy/names.ts encodes and decodes them) */
export const NAMES_TAG = 'fleet:names';
/** fleet asks the worker to leave by this deadline (ISO 8601 UTC); the worker reads it from its metadata */
export const RETIRE_TAG = 'fleet:retire';
/** why fleet asked the worker to leave (a cause, see causes.ts): written beside `fleet:retire`, so it is recorded, not inferred */
export const RETIRE_CAUSE_TAG = 'fleet:retire-cause';
