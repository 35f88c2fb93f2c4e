// A Host check against DNS rebinding: a web page whose name an attacker points at
// 127.0.0.1 reaches ecs-local from a browser, but its requests carry the
// attacker's name in Host. Only ecs-local's own address (or localhost, on
// loopback) is answered.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isLoopbackHost } from './config.ts';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Whether `hostHeader` names this server listening on `host`:`port`. */
export function hostAllowed(hostHeader: string | undefined, host: string, port: number): boolean {
  if (!hostHeader) return false;
  let url: URL;
  try {
    url = new URL(`http://${hostHeader}`);
  } catch {
    return false;
  }
  if (url.username || url.password || url.pathname !== '/') return false;
  if ((url.port === '' ? 80 : Number(url.port)) !== port) return false;
  const name = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const own = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === own) return true;
  if (isLoopbackHost(own) && (name === 'localhost' || isLoopbackHost(name))) return true;
  // Listening on every interface: any address of this machine, or its name.
  if (WILDCARDS.has(own)) return isIP(name) !== 0 || name === hostname().toLowerCase();
  return false;
}
