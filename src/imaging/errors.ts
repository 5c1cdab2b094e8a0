// The one error type of the image factory: a clear message for the CLI user plus a machine code.

/**
 * Why an imaging step stopped: `bad-input` (recipe, arguments, not a disk), `no-root`, `tool` (an external tool
 * failed), `refused`.
 */
export type ImagingErrorCode = 'bad-input' | 'no-root' | 'tool' | 'refused' | 'not-found';

/** An imaging step that could not be done; nothing half-made is left behind when it is thrown. */
export class ImagingError extends Error {
  constructor(
    readonly code: ImagingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImagingError';
  }
}
