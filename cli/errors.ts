// Errors the CLI expects and explains: printed as `error: ...` on stderr with an
// exit code, never with a stack trace.
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
