import { runSeed } from '../src/sim/soak/index.js';
const [seed, cycle, pool] = [Number(process.env.SEED), Number(process.env.CYCLE), process.env.POOL as string];
process.env.DBG_POOL = pool;
await runSeed(seed, cycle + 1, undefined, (c, cloud) => {
  if (c < cycle - 2) return;
  if (c === cycle - 2) process.env.DBG_FROM = String(cloud.clock.now());
  const rows = [...cloud.world.instances.values()].filter((i) => i.tags['fleet:pool'] === pool).filter((i) => i.state !== 'terminated').map((i) => `${i.id} ${i.tags.Name ?? i.tags['fleet:names']} ${i.state} ${i.lifecycle} ${i.az}/${i.instanceType} ${i.ami.slice(0,10)} repl=${i.tags['fleet:replaces'] ?? ''} launched=${new Date(i.launchTime).toISOString().slice(11,19)}`);
  console.log('cycle', c, new Date(cloud.clock.now()).toISOString());
  for (const r of rows) console.log('  ', r);
  const drained = cloud.objects.peek('fleet-soak', 'state/drained.json')?.body;
  console.log('   drained', drained?.replace(/\s+/g,' ').slice(0, 300));
});
