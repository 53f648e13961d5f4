// The planner as `fleet` runs it: the compiled code in dist/ (`npm run build`), not the sources
// through the TypeScript loader, which runs the same code measurably slower. Planner benches time this.

type PlanModule = typeof import('../src/plan/plan.js');
type GuardModule = typeof import('../src/plan/guard.js');

const compiled = (path: string) => new URL(`../dist/${path}`, import.meta.url).href;

export const { plan } = (await import(compiled('plan/plan.js'))) as PlanModule;
export const { applyGuard } = (await import(compiled('plan/guard.js'))) as GuardModule;

/**
 * Untimed runs before the timed ones: the service plans every cycle for as long as it runs, so its
 * planner is compiled; these let V8 compile it here too.
 */
export const WARM_UP_RUNS = 10;
