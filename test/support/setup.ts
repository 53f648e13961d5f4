// Loaded before every test file.
import fc from 'fast-check';

// The SDK's Node-version notice is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// Property tests explore new cases on every local run (a failure prints its seed), but CI runs a
// fixed seed so that a run is reproducible; FC_SEED replays any seed.
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI === 'true' ? 20261122 : undefined;
if (seed !== undefined) fc.configureGlobal({ seed });
