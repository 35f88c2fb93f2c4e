// One resource request as the route handlers pass it around: what resources.ts
// builds for every call and watch.ts streams from, in a file of its own so that
// neither of them imports the other for it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KindInfo } from '../../crds/index.ts';
import type { Principal } from '../../store/index.ts';
import type { UrlScope } from '../admission.ts';
import type { ApiDeps } from '../context.ts';
import type { Key } from '../store-port.ts';

export interface Call {
  req: FastifyRequest;
  reply: FastifyReply;
  deps: ApiDeps;
  p: Principal;
  kind: KindInfo;
  scope: UrlScope;
  key: Key;
}
