// Fastify logs two lines per request at info; on a terminal beside `make run` they
// drown everything else. Here they are debug lines (BERTH_LOG_LEVEL=debug shows
// them); a request that errored keeps its error line.
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

export class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) super.requestCompleted(error, request, reply);
    else if (!this.isLogDisabled(request))
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
