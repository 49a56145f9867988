export declare function serveStream(options: { chunks: number; intervalMs?: number; shape: 'openai' | 'minimal' }): Promise<{ port: number; close(): void }>;
