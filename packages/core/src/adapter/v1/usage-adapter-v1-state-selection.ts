/** Which stored state values to read: these keys, and every key under these prefixes. */
export type UsageAdapterV1StateSelection = {
  readonly keys?: readonly string[];
  readonly prefixes?: readonly string[];
};
