declare const __UTT_PACKAGE_VERSION__: string | undefined;

/** The worker's (the `utt` CLI's) version, injected at build time. */
export const VERSION: string = typeof __UTT_PACKAGE_VERSION__ === 'string' ? __UTT_PACKAGE_VERSION__ : '0.0.0-dev';
