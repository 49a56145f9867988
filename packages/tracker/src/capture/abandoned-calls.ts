/** A call whose result (a stream, a response body) may be dropped before its end: how it records itself then. */
export type AbandonableCall = {
  /** Records the call as usage 'unknown' unless it was recorded already; must not reach the call's carrier. */
  abandon(): void;
};

/**
 * The calls whose result was dropped unread: each is recorded, with usage
 * 'unknown', when the object that carried its result is garbage collected,
 * and that record gives its budget hold back. One registry for every
 * integration (AI SDK, Google, the tracked fetch).
 */
const abandonedCalls = new FinalizationRegistry<AbandonableCall>((call) => {
  try {
    call.abandon();
  } catch {
    // A raise budget's error has no caller here, and a finalizer must never throw: the call is recorded.
  }
});

/**
 * Records `call` when `carrier` is garbage collected before the call ended.
 * `token`: to forget the call once it ended (forgetAbandonable); without
 * one, `abandon()` must do nothing for a call already recorded (the
 * registration then costs no unregistering on the call's path).
 */
export function recordWhenAbandoned(carrier: object, call: AbandonableCall, token?: object): void {
  abandonedCalls.register(carrier, call, token);
}

/** The call registered under `token` ended: its carrier's collection records nothing. */
export function forgetAbandonable(token: object): void {
  abandonedCalls.unregister(token);
}
