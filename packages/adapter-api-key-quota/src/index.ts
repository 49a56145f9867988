export { apiKeyQuotaAdapter, apiKeyQuotaAdapter as default } from './api-key-quota-adapter';
export { type ApiKeyConfig, type ApiKeyQuotaConfig, type ApiKeyQuotaConfigInput, apiKeyQuotaConfigSchema } from './api-key-quota-config';
export { geminiQuotaReadings } from './gemini-quota';
export { VERSION } from './version';
