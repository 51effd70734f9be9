/** Message type bytes of the Postgres wire protocol (version 3), named. */
const code = (c: string): number => c.charCodeAt(0);

/** What a client sends. */
export const Frontend = {
  Query: code('Q'),
  Parse: code('P'),
  Bind: code('B'),
  Describe: code('D'),
  Execute: code('E'),
  Close: code('C'),
  Sync: code('S'),
  Flush: code('H'),
  Terminate: code('X'),
  FunctionCall: code('F'),
  CopyData: code('d'),
  CopyDone: code('c'),
  CopyFail: code('f'),
  /** PasswordMessage, SASLInitialResponse and SASLResponse share it. */
  Password: code('p'),
} as const;

/** What the server sends. */
export const Backend = {
  Authentication: code('R'),
  ParameterStatus: code('S'),
  BackendKeyData: code('K'),
  NegotiateProtocolVersion: code('v'),
  ReadyForQuery: code('Z'),
  RowDescription: code('T'),
  DataRow: code('D'),
  CommandComplete: code('C'),
  EmptyQueryResponse: code('I'),
  ErrorResponse: code('E'),
  NoticeResponse: code('N'),
  NotificationResponse: code('A'),
  ParseComplete: code('1'),
  BindComplete: code('2'),
  CloseComplete: code('3'),
  ParameterDescription: code('t'),
  NoData: code('n'),
  PortalSuspended: code('s'),
  CopyInResponse: code('G'),
  CopyOutResponse: code('H'),
  CopyData: code('d'),
  CopyDone: code('c'),
} as const;

/** The codes in place of a protocol version in a connection's first packet. */
export const Request = {
  SSL: 80877103,
  GSSENC: 80877104,
  Cancel: 80877102,
} as const;

/** Authentication request subtypes (the first int32 of an Authentication message). */
export const Auth = {
  Ok: 0,
  CleartextPassword: 3,
  Sasl: 10,
  SaslContinue: 11,
  SaslFinal: 12,
} as const;

/** The byte of each ErrorResponse/NoticeResponse field. */
export const ErrorField = {
  Severity: code('S'),
  SeverityNonLocalized: code('V'),
  Code: code('C'),
  Message: code('M'),
  Detail: code('D'),
  Hint: code('H'),
  Position: code('P'),
  Schema: code('s'),
  Table: code('t'),
  Column: code('c'),
  DataType: code('d'),
  Constraint: code('n'),
} as const;

/** The message name of a type byte, for errors. */
export const messageName = (c: number): string => `"${String.fromCharCode(c)}" (0x${c.toString(16)})`;
