// A task never gets an address where its ports are taken: a process left over
// from an earlier run (here, a plain listener) keeps its address to itself, and
// the new task gets the next one, where it really is the one that answers.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, test } from 'node:test';
import type { Task } from '@aws-sdk/client-ecs';
import { waitFor } from '../support/wait.ts';
import { ecsClient, registerFargate, runOne, start, waitForStatus } from './helpers.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

function listen(host: string, port = 0): Promise<number> {
  const server = createServer((socket) => socket.end('squatter\n'));
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
}

const ipOf = (t: Task) =>
  t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;

test('an address whose port is in use is skipped; the task gets the next one and serves there', async () => {
  const octet = 100 + Math.floor(Math.random() * 150);
  const ecsLocal = await start({ addressOctet: octet });
  after(() => ecsLocal.close());
  const ecs = ecsClient(ecsLocal);
  const port = await listen(`127.${octet}.1.1`);
  const td = await registerFargate(ecs, 'server', 'test/serve:1', { port });
  const task = await waitForStatus(ecs, (await runOne(ecs, td)).taskArn!, 'RUNNING');
  assert.equal(ipOf(task), `127.${octet}.1.2`, 'the taken address is skipped');
  let answer: { host?: string } = {};
  await waitFor(
    async () => {
      answer = await fetch(`http://127.${octet}.1.2:${port}/`).then(
        (r) => r.json() as Promise<{ host: string }>,
        () => ({}),
      );
      return answer.host !== undefined;
    },
    10_000,
    'the task to listen',
  );
  assert.equal(answer.host, `127.${octet}.1.2`, 'the task itself answers on its address');
});

test('a port taken on every address fails the task to start, saying why', async () => {
  const ecsLocal = await start();
  after(() => ecsLocal.close());
  const ecs = ecsClient(ecsLocal);
  const port = await listen('0.0.0.0');
  const td = await registerFargate(ecs, 'server', 'test/serve:1', { port });
  const task = await waitForStatus(ecs, (await runOne(ecs, td)).taskArn!, 'STOPPED');
  assert.equal(task.stopCode, 'TaskFailedToStart');
  assert.match(task.stoppedReason ?? '', new RegExp(`port ${port} already in use`));
  assert.equal(ipOf(task), undefined, 'no address was assigned');
});
