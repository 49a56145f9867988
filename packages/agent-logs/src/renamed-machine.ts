import { statSync } from 'node:fs';
import { sep } from 'node:path';
import type { UsageAdapterV1State } from '@utt/core';
import { storedFileIdentities } from './file-cursor-store';

/** At most this many of a namespace's file cursors are checked against the files here (spread over all of them). */
const FILES_LOOKED_AT = 256;
/** A namespace is this machine's under an earlier name when at least this many of its files (all, if it knows fewer)… */
const MIN_MATCHING_FILES = 3;
/** …and at least this share of those still at their paths are the very same files (same inode). */
const MIN_MATCHING_SHARE = 2 / 3;

export type EarlierMachineName = {
  /** The namespace whose state this machine wrote under its earlier name. */
  readonly namespace: string;
  /** Its files looked at, those still at their paths here, and those of them with the inode its cursor recorded. */
  readonly looked: number;
  readonly present: number;
  readonly matching: number;
};

/**
 * Finds the namespace this machine wrote under an earlier name, for a
 * namespace that has no state yet: among the other namespaces of the same
 * agent and user, one whose file cursors name files under this cycle's roots
 * that are still here, at the same path with the same inode (see
 * MIN_MATCHING_FILES, MIN_MATCHING_SHARE).
 * Another machine writing to the same source, even with the same user name
 * and home directory, has other files: other inodes, and mostly other names.
 *
 * The device is not compared: on a laptop it is the same number on every
 * machine of a kind, so it tells machines no further apart, and it can change
 * when volumes are mounted in another order at a reboot, which is when a
 * machine's name often changes too.
 *
 * Loads every stored key of the agent's namespaces of this user (all of that
 * user's machines): called only when a namespace has no state, once per
 * machine name.
 */
export async function findEarlierMachineName(
  state: UsageAdapterV1State,
  options: {
    /** `<agent>/`: the prefix of every namespace of the agent. */
    readonly agentPrefix: string;
    /** `<agent>/<user>@`: only the host part of a name changes; another user of the machine is someone else. */
    readonly candidatePrefix: string;
    /** The namespace without state. */
    readonly namespace: string;
    /** The roots this cycle reads: only files under them are compared. */
    readonly roots: readonly string[];
  },
): Promise<EarlierMachineName | undefined> {
  const { agentPrefix, candidatePrefix, namespace, roots } = options;
  await state.load?.({ prefixes: [candidatePrefix] });
  const underRoots = (file: string) => roots.some((root) => file === root || file.startsWith(root.endsWith(sep) ? root : root + sep));
  const cursorKeys = new Map<string, string[]>();
  for (const key of state.keys(candidatePrefix)) {
    const at = key.indexOf(CURSORS, agentPrefix.length);
    if (at < 0) continue;
    const other = key.slice(0, at);
    if (other === namespace || !underRoots(key.slice(at + CURSORS.length))) continue;
    let keys = cursorKeys.get(other);
    if (keys === undefined) cursorKeys.set(other, (keys = []));
    keys.push(key);
  }
  let best: EarlierMachineName | undefined;
  for (const [other, keys] of cursorKeys) {
    const identities = keys.flatMap((key) => {
      const text = state.get(key);
      return typeof text === 'string' ? storedFileIdentities(key.slice(key.indexOf(CURSORS, agentPrefix.length) + CURSORS.length), text) : [];
    }).filter((identity) => underRoots(identity.path));
    const step = Math.max(1, identities.length / FILES_LOOKED_AT);
    let looked = 0;
    let present = 0;
    let matching = 0;
    for (let index = 0; index < identities.length; index += step) {
      const identity = identities[Math.floor(index)] as (typeof identities)[number];
      looked += 1;
      const info = statSync(identity.path, { throwIfNoEntry: false });
      if (!info?.isFile()) continue;
      present += 1;
      if (String(info.ino) === identity.ino) matching += 1;
    }
    const recognised = matching >= Math.min(MIN_MATCHING_FILES, looked) && matching >= present * MIN_MATCHING_SHARE && matching > 0;
    if (recognised && (best === undefined || matching > best.matching)) best = { namespace: other, looked, present, matching };
  }
  return best;
}

const CURSORS = '/cursors/';
