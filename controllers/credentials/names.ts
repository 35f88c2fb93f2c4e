// The names berth gives what it creates in a dataset database. PostgreSQL roles
// are global to a cluster, so every role name starts with this installation's
// prefix (two installations, or two test runs, sharing a cluster never touch each
// other's roles), and a garbage collector can find a login from its name alone.
// All names are lowercase, unquoted-safe and at most 63 bytes (NAMEDATALEN - 1).
import { createHash } from 'node:crypto';

function hex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** `berth_<6 hex of the installation id>_`: every role of this installation starts so. */
export function rolePrefix(installationId: string): string {
  return `berth_${hex(`installation:${installationId}`, 6)}_`;
}

/** The permanent (NOLOGIN) role of a user: owns their schema, holds their dataset roles. */
export function userRole(installationId: string, user: string): string {
  return `${rolePrefix(installationId)}u_${hex(`user:${user}`, 16)}`;
}

/** The permanent role of a shared app (namespace `shared`): its own grants, not its viewers'. */
export function appRole(installationId: string, app: string): string {
  return `${rolePrefix(installationId)}a_${hex(`app:${app}`, 16)}`;
}

/** The role that holds SELECT on one Dataset's tables. */
export function datasetRole(installationId: string, dataset: string): string {
  return `${rolePrefix(installationId)}d_${hex(`dataset:${dataset}`, 16)}`;
}

/** The private schema of a user (or app); their tables live there across launches. */
export function privateSchema(installationId: string, subject: string): string {
  return `_user_${hex(`${installationId}:${subject}`, 12)}`;
}

/** The login of one launch attempt: `<prefix>l_<uid without dashes>_<attempt>`. */
export function loginRole(installationId: string, uid: string, attempt: number): string {
  return `${rolePrefix(installationId)}l_${uid.replaceAll('-', '').toLowerCase()}_${attempt}`;
}

const LOGIN = /^berth_[0-9a-f]{6}_l_([0-9a-f]{32})_(\d{1,9})$/;

/** The instance uid (with dashes) and attempt a login role name stands for; undefined for other names. */
export function parseLoginRole(
  installationId: string,
  role: string,
): { uid: string; attempt: number } | undefined {
  if (!role.startsWith(rolePrefix(installationId))) return undefined;
  const m = LOGIN.exec(role);
  if (!m) return undefined;
  const u = m[1]!;
  const uid = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
  return { uid, attempt: Number(m[2]) };
}
