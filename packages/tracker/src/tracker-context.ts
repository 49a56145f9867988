import { AsyncLocalStorage } from 'node:async_hooks';

/** What a scope adds to every call made inside it. */
export type CallContext = {
  readonly tags?: Readonly<Record<string, string>>;
  readonly threadId?: string;
  readonly agentId?: string;
};

/** The default tags of a call that started in a scope: function default tags evaluated when the call was made. */
export const STARTED_DEFAULT_TAGS: unique symbol = Symbol('utt.startedDefaultTags');

/**
 * The scope a call was made in, kept with the call until it is recorded (a
 * stream ends later, in whatever async context reads it last): its scoped
 * tags, thread and agent, and its default tags when those come from a function.
 */
export type CallScope = CallContext & { readonly [STARTED_DEFAULT_TAGS]?: Readonly<Record<string, string>> };

/**
 * One storage per tracker, so two trackers in one process do not see each
 * other's scopes. AsyncLocalStorage follows promises, timers and streams, so
 * concurrent requests never share tags.
 */
export function createContextScope() {
  const storage = new AsyncLocalStorage<CallContext>();
  // Until a scope is first entered there is none to look up: most services that never scope pay nothing per call.
  let entered = false;
  return {
    current: (): CallContext | undefined => (entered ? storage.getStore() : undefined),
    run<T>(context: CallContext, fn: () => T): T {
      entered = true;
      const outer = storage.getStore();
      const merged: CallContext = outer
        ? {
            tags: outer.tags && context.tags ? { ...outer.tags, ...context.tags } : (context.tags ?? outer.tags),
            threadId: context.threadId ?? outer.threadId,
            agentId: context.agentId ?? outer.agentId,
          }
        : context;
      return storage.run(merged, fn);
    },
  };
}
