// v8_driver.mjs -- runs one kernel's wasm under Node's V8:
//   node [--no-liftoff] --no-concurrent-marking v8_driver.mjs FILE.wasm N REPS
// Instantiates once (not timed), calls run(N) REPS times and prints
// "checksum C ns MEDIAN_NS". The module imports nothing. Times are the
// process's CPU time (user + system; the machine is shared), as for the
// other runners; concurrent marking is off, so little else runs meanwhile.
import { readFileSync } from 'node:fs';

const [file, nStr, repsStr] = process.argv.slice(2);
const n = Number(nStr) >>> 0;
const reps = Math.max(1, Number(repsStr) | 0);
const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
const run = instance.exports.run;
const times = [];
let first = null;
for (let r = 0; r < reps; r++) {
  const t0 = process.cpuUsage();
  const c = run(n) >>> 0;
  const dt = process.cpuUsage(t0);
  times.push((dt.user + dt.system) * 1000);
  if (first === null) first = c;
  else if (c !== first) {
    console.error(`checksum changed between calls: ${first} vs ${c}`);
    process.exit(1);
  }
}
times.sort((a, b) => a - b);
console.log(`checksum ${first} ns ${times[reps >> 1]}`);
