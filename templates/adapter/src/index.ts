// The worker loads an adapter by package name and takes its default export.
export { acmeAdapter, acmeAdapter as default } from './acme-adapter';
export { type AcmeConfig, acmeConfigSchema } from './acme-config';
