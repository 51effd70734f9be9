/** Fields of a Postgres ErrorResponse beyond code, message and hint, where they apply. */
export interface ErrorFields {
  detail?: string;
  /** 1-based character position in the statement text. */
  position?: number;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  constraint?: string;
}

/**
 * The one error type of aiduck: raised to the client as an ErrorResponse, with the SQLSTATE that tells
 * it what went wrong, a message, and where it helps a hint. Everything below the session throws these;
 * the session turns them into protocol messages.
 */
export class SqlError extends Error {
  constructor(readonly code: string, message: string, readonly hint?: string, readonly fields: ErrorFields = {}) {
    super(message);
  }
}

/** A violation of the wire protocol: the session ends with a FATAL ErrorResponse carrying this SQLSTATE. */
export class ProtocolError extends Error {
  constructor(message: string, readonly code = '08P01') {
    super(message);
  }
}
