// The text `berth describe dataset NAME` prints: what a person deciding whether to
// use (or grant) a Dataset wants to see, in kubectl's layout: its title and
// description, tables, who may use it, who currently has access (only when the
// API shows it: to admins and the Dataset's approvers), approvers, conditions,
// the requests for it the caller may see, and recent events.
import type { AccessRequest, BerthObject, Condition, Dataset } from '../crds/index.ts';
import { mapLines, renderConditions, renderEvents, table } from './describe.ts';
import { age } from './printers.ts';

export interface DatasetDescribeInput {
  dataset: Dataset;
  /** The requests for it the caller may see; undefined with requestsError. */
  requests?: AccessRequest[];
  requestsError?: string;
  events: BerthObject[] | undefined;
  eventsError?: string;
  /** The caller may not list events where a Dataset's are (admins only). */
  eventsHidden?: boolean;
  now?: number;
}

const W = 14;
const line = (label: string, value: string) => `${label.padEnd(W)}${value}`;

function names(list: readonly string[] | undefined): string {
  return list && list.length > 0 ? list.join(', ') : '<none>';
}

/** A free-text value on one line: newlines and tabs would break the table. */
function oneLine(text: string | undefined, max = 80): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Pending first (they need someone), then newest first. */
function byUrgency(a: AccessRequest, b: AccessRequest): number {
  const pending = (r: AccessRequest) => ((r.status?.phase ?? 'Pending') === 'Pending' ? 0 : 1);
  const created = (r: AccessRequest) => Date.parse(r.metadata.creationTimestamp ?? '') || 0;
  return pending(a) - pending(b) || created(b) - created(a);
}

function renderRequests(
  requests: AccessRequest[] | undefined,
  error: string | undefined,
  now: number,
): string[] {
  if (error) return [`Requests:     <unable to list requests: ${error}>`];
  if (!requests || requests.length === 0) return ['Requests:     <none>'];
  const rows = [...requests]
    .sort(byUrgency)
    .map((r) => [
      r.metadata.namespace ?? '',
      r.metadata.name,
      r.status?.phase ?? 'Pending',
      r.status?.decidedBy ?? '',
      age(r.metadata.creationTimestamp, now),
      oneLine(r.spec.reason),
    ]);
  return [
    'Requests:',
    ...table(['Requester', 'Name', 'Phase', 'Decided By', 'Age', 'Reason'], rows, '  '),
  ];
}

export function renderDatasetDescribe({
  dataset,
  requests,
  requestsError,
  events,
  eventsError,
  eventsHidden = false,
  now = Date.now(),
}: DatasetDescribeInput): string {
  const m = dataset.metadata;
  const spec = dataset.spec;
  const out: string[] = [line('Name:', m.name), line('Title:', spec.title)];
  const description = (spec.description ?? '').trim();
  if (description.includes('\n')) {
    out.push('Description:');
    for (const l of description.split('\n')) out.push(`  ${l}`);
  } else out.push(line('Description:', description || '<none>'));
  out.push(...mapLines('Labels:', m.labels, W));
  out.push(...mapLines('Annotations:', m.annotations, W));
  out.push(
    line(
      'Created:',
      `${m.creationTimestamp ?? '<unknown>'} (${age(m.creationTimestamp, now)} ago)`,
    ),
  );

  out.push('Tables:');
  out.push(
    ...table(
      ['Database', 'Schema', 'Table'],
      spec.tables.map((t) => [t.database, t.schema, t.table]),
      '  ',
    ),
  );

  const access = spec.access;
  out.push('Access:');
  out.push(
    `  ${'Type:'.padEnd(8)}${access.type === 'everyone' ? 'everyone (every signed-in user)' : 'named (the users and groups below, and approved requests)'}`,
  );
  if (access.type === 'named') {
    out.push(`  ${'Users:'.padEnd(8)}${names(access.users)}`);
    out.push(`  ${'Groups:'.padEnd(8)}${names(access.groups)}`);
  }
  out.push(`  ${'Apps:'.padEnd(8)}${names(access.apps)}`);

  const current = dataset.status?.access;
  if (current) {
    out.push('Who Has Access:');
    out.push(`  ${'Everyone:'.padEnd(11)}${current.everyone ? 'yes' : 'no'}`);
    out.push(`  ${'Users:'.padEnd(11)}${names(current.users)}`);
    out.push(`  ${'Apps:'.padEnd(11)}${names(current.apps)}`);
  }

  out.push('Approvers:');
  out.push(`  ${'Users:'.padEnd(8)}${names(spec.approvers.users)}`);
  out.push(`  ${'Groups:'.padEnd(8)}${names(spec.approvers.groups)}`);
  if (spec.approvers.users.length === 0 && spec.approvers.groups.length === 0)
    out.push('  (admins decide its requests)');

  const conditions: Condition[] = dataset.status?.conditions ?? [];
  out.push(...renderConditions(conditions));
  out.push(...renderRequests(requests, requestsError, now));
  if (eventsHidden) out.push('Events:       <shown to admins only>');
  else out.push(...renderEvents(events, eventsError, now));
  return out.join('\n') + '\n';
}

/** "carol, group data-stewards or an admin": who may decide a request for `ds`. */
export function approversText(ds: Pick<Dataset, 'spec'>): string {
  const who = [...ds.spec.approvers.users, ...ds.spec.approvers.groups.map((g) => `group ${g}`)];
  return who.length === 0 ? 'an admin' : `${who.join(', ')} or an admin`;
}
