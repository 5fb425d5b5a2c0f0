import assert from "node:assert/strict";
import { afterEach, mock, test } from "node:test";
import { Backoff } from "../src/backoff";

afterEach(() => mock.restoreAll());

function random(value: number): void {
  mock.method(Math, "random", () => value);
}

test("the ceiling doubles from 500 ms up to 30 s; reset starts over", () => {
  random(0.999999);
  const b = new Backoff();
  const delays = Array.from({ length: 9 }, () => Math.round(b.next()));
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  b.reset();
  assert.equal(Math.round(b.next()), 500);
});

test("full jitter: anywhere from 0 to the ceiling", () => {
  random(0);
  const b = new Backoff();
  assert.equal(b.next(), 0);
  random(0.5);
  assert.equal(b.next(), 500);
});

test("slow (rate limited): at least 5 s, at most about 2 min", () => {
  random(0);
  assert.equal(new Backoff().next(true), 5000);
  random(0.999999);
  const b = new Backoff();
  assert.equal(Math.round(b.next(true)), 45000); // 5 s + 4 x max(ceiling, 10 s)
  for (let i = 0; i < 20; i++) b.next(true);
  assert.equal(Math.round(b.next(true)), 125000);
});

test("base and cap are the caller's (1013's backoff: 1 s .. 15 s)", () => {
  random(0.999999);
  const b = new Backoff(1000, 15000);
  assert.deepEqual(Array.from({ length: 6 }, () => Math.round(b.next())), [1000, 2000, 4000, 8000, 15000, 15000]);
});
