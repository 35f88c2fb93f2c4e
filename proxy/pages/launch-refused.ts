// The page of a launch on visit that the owner's Quota or the launch rate refused
// (403 or 429): what was not launched and the refusal's own words, which name the
// quota or the limit. JSON clients get the same sentence (pages/errors.ts).
import type { ServerResponse } from 'node:http';
import type { LaunchRefused } from '../../store/index.ts';
import { sendError } from './errors.ts';

export function sendLaunchRefused(res: ServerResponse, tool: string, refused: LaunchRefused): void {
  const retry = refused.details?.retryAfterSeconds;
  const hint =
    refused.why === 'QuotaExceeded'
      ? '<p>Stop one of your other tools, or ask an admin for a larger quota.</p>'
      : '';
  sendError(
    res,
    refused.code,
    `${tool} was not launched: ${refused.message}`,
    hint,
    retry !== undefined ? { 'retry-after': String(retry) } : {},
  );
}
