import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until `done()` (FinalizationRegistry callbacks run on a later task), or gives up after `rounds`. */
export async function collectGarbageUntil(done: () => boolean, rounds = 50): Promise<boolean> {
  for (let round = 0; round < rounds; round += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (done()) return true;
  }
  return false;
}
