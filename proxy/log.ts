// The logger the proxy writes to: pino's shape, so bin/ passes a pino logger and
// tests pass nothing (silent). Never log cookies, tokens or codes.
export interface ProxyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: ProxyLogger = {
  info() {},
  warn() {},
  error() {},
};
