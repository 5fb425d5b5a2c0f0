// The table against the server: every close code the Python server sends must be in it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CloseCode, isServerAnswer } from "../closecode";

function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "__pycache__" ? [] : pythonFiles(path);
    return name.endsWith(".py") ? [path] : [];
  });
}

/** Close codes written in the server's sources (`ws_close_code = N`, `..._CLOSE = N`, `close(code=N`). */
function serverCloseCodes(): Map<number, string> {
  const found = new Map<number, string>();
  const pattern = /(?:ws_close_code|_CLOSE|close\(code)\s*=\s*(\d{4})\b/g;
  for (const file of pythonFiles("replay_server")) {
    for (const m of readFileSync(file, "utf8").matchAll(pattern)) found.set(Number(m[1]), file);
  }
  return found;
}

test("every close code the server sends is in the table", () => {
  const codes = serverCloseCodes();
  assert.ok(codes.has(4413) && codes.has(1013), "the scan of replay_server/ finds the known codes");
  const known = new Set(Object.values(CloseCode).filter((v): v is number => typeof v === "number"));
  for (const [code, file] of codes) assert.ok(known.has(code), `${code} (${file}) is missing from CloseCode`);
});

test("the table's values are the protocol's", () => {
  assert.equal(CloseCode.BadRequest, 4400);
  assert.equal(CloseCode.UnknownSite, 4401);
  assert.equal(CloseCode.Forbidden, 4403);
  assert.equal(CloseCode.Timeout, 4408);
  assert.equal(CloseCode.TooLarge, 4413);
  assert.equal(CloseCode.RateLimited, 4429);
  assert.equal(CloseCode.ServerError, 1011);
  assert.equal(CloseCode.ServiceRestart, 1012);
  assert.equal(CloseCode.TryAgainLater, 1013);
});

test("4xxx codes are the server's answers, 1xxx the connection's", () => {
  assert.equal(isServerAnswer(CloseCode.RateLimited), true);
  assert.equal(isServerAnswer(CloseCode.BadRequest), true);
  assert.equal(isServerAnswer(CloseCode.Abnormal), false);
  assert.equal(isServerAnswer(CloseCode.TryAgainLater), false);
});
