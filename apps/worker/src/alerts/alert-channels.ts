import type { AlertChannelConfig } from '../config/quota-config-schema';
import type { AlertUrgency } from './alert-rule';

/** One notification, already worded; no secret is ever part of it. */
export type AlertNotification = {
  readonly rule: string;
  readonly subject: string;
  readonly level: string;
  readonly previousLevel: string;
  readonly urgency: AlertUrgency;
  readonly message: string;
};

export type AlertChannel = {
  readonly name: string;
  send(notification: AlertNotification): Promise<void>;
};

const DEADLINE_MS = 15_000;
const NTFY_PRIORITY: Record<AlertUrgency, string> = { critical: '5', warning: '4', info: '3' };
const SLACK_EMOJI: Record<AlertUrgency, string> = { critical: ':red_circle:', warning: ':warning:', info: ':information_source:' };

/** The text every channel sends: the message, and the transition for recoveries. */
export function notificationText(notification: AlertNotification): string {
  return notification.level === 'ok' ? `✅ ${notification.message} (was ${notification.previousLevel})` : notification.message;
}

/**
 * A channel from its config. Errors name the channel and the HTTP status,
 * never the URL (a Slack webhook URL or an ntfy topic is a password).
 */
export function createAlertChannel(name: string, config: AlertChannelConfig, options: { fetch: typeof globalThis.fetch; write: (text: string) => void }): AlertChannel {
  const post = async (url: string, init: RequestInit) => {
    let response: Response;
    try {
      response = await options.fetch(url, { ...init, method: 'POST', signal: AbortSignal.timeout(DEADLINE_MS) });
    } catch (error) {
      throw new Error(`alert channel "${name}" (${config.type}): could not connect (${(error as Error).name === 'TimeoutError' ? 'timed out' : 'network error'})`);
    }
    const body = (await response.text()).slice(0, 200);
    if (!response.ok) throw new Error(`alert channel "${name}" (${config.type}): HTTP ${response.status}${/^[a-z_]+$/.test(body) ? ` ${body}` : ''}`);
  };
  switch (config.type) {
    case 'slack':
      return {
        name,
        send: (notification) =>
          post(config.url, {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ text: `${notification.level === 'ok' ? '' : `${SLACK_EMOJI[notification.urgency]} `}utt: ${notificationText(notification)}` }),
          }),
      };
    case 'ntfy': {
      const url = config.topic ? `${config.url.replace(/\/$/, '')}/${encodeURIComponent(config.topic)}` : config.url;
      return {
        name,
        send: (notification) =>
          post(url, {
            headers: {
              'content-type': 'text/plain; charset=utf-8',
              Title: `utt ${notification.rule}: ${notification.level}`,
              Priority: notification.level === 'ok' ? '3' : NTFY_PRIORITY[notification.urgency],
              Tags: notification.level === 'ok' ? 'white_check_mark' : notification.urgency === 'critical' ? 'rotating_light' : 'warning',
              ...(config.token ? { Authorization: `Bearer ${config.token}` } : {}),
            },
            body: notificationText(notification),
          }),
      };
    }
    default:
      return {
        name,
        send: async (notification) => options.write(`[${notification.rule}] ${notificationText(notification)}\n`),
      };
  }
}
