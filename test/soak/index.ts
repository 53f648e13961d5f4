// The chaos soak (npm run soak): run it, and turn its results into figures.

export { runSeed, runSoak, type SeedResult, type SoakOptions, type Violation } from './run.js';
export { formatReport, soakReport, type SoakReport } from './report.js';
export { INVARIANTS } from './invariants/index.js';
