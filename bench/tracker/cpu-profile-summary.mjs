// Self time of a V8 .cpuprofile (node --cpu-prof) by file category (the openai SDK, undici, node internals, the
// tracker, GC…) and by function: node tracker/cpu-profile-summary.mjs <file.cpuprofile> [functions to list]
import { readFileSync } from 'node:fs';
const [file, top = 40] = process.argv.slice(2);
if (!file) throw new Error('usage: node tracker/cpu-profile-summary.mjs <file.cpuprofile> [functions to list]');
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]);
  self.set(n.id, (self.get(n.id) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map(); const cat = new Map();
for (const [id, t] of self) {
  const n = byId.get(id); const cf = n.callFrame;
  const url = cf.url.replace(/^.*node_modules\/\.pnpm\/([^/]+)\/node_modules\//, '$1:').replace(/^file:\/\/.*?\/(packages|bench|apps)\//, '$1/');
  const k = `${cf.functionName || '(anon)'} ${url}:${cf.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + t);
  let c = url.startsWith('node:internal/deps/undici') ? 'undici' : url.startsWith('node:') ? 'node-internal' : url.includes('openai@') ? 'openai-sdk' : url.includes('packages/tracker') ? 'tracker' : url === '' ? cf.functionName : url.includes('tsx') ? 'tsx' : url.includes('bench/') ? 'bench' : 'other:' + url;
  cat.set(c, (cat.get(c) ?? 0) + t);
}
console.log('total ms', (total / 1000).toFixed(1));
for (const [k, t] of [...cat].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(((t / 1000)).toFixed(1).padStart(9), (100 * t / total).toFixed(2).padStart(6) + '%', k);
console.log('---');
for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(((t / 1000)).toFixed(1).padStart(9), (100 * t / total).toFixed(2).padStart(6) + '%', k);
