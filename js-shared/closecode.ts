// The WebSocket close codes of replay-server, shared by the recorder (ingest: docs/protocol.md,
// replay_server/errors.py) and the player's live view (replay_server/api/live.py).
// 44xx mirror the HTTP status of the same refusal; 10xx are RFC 6455's own.
// A TS enum on purpose: esbuild inlines its values, so neither bundle carries the table.

export enum CloseCode {
  Normal = 1000,
  /** No close frame (network failure, socket that never opened): set by the browser, never sent. */
  Abnormal = 1006,
  ServerError = 1011,
  /** The node is shutting down: reconnect (to it once restarted, or to another). */
  ServiceRestart = 1012,
  /** Retryable: storage cannot make data durable now (ingest), a live viewer fell behind (live view). */
  TryAgainLater = 1013,
  BadRequest = 4400,
  UnknownSite = 4401,
  Forbidden = 4403,
  Timeout = 4408,
  TooLarge = 4413,
  RateLimited = 4429,
}

/** Codes from 4000 (RFC 6455's private range) are the server's answers; below, the connection's fate. */
export function isServerAnswer(code: number): boolean {
  return code >= 4000;
}
