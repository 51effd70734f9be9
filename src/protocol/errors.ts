/** A violation of the wire protocol: the session ends with an ErrorResponse carrying this SQLSTATE. */
export class ProtocolError extends Error {
  constructor(message: string, readonly code = '08P01') {
    super(message);
  }
}

/** An error raised to the client as an ErrorResponse, with the SQLSTATE that tells it what went wrong. */
export class SqlError extends Error {
  constructor(readonly code: string, message: string, readonly hint?: string) {
    super(message);
  }
}
