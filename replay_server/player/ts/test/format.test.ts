import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes, formatClock, formatDateTime, formatDuration, formatSize } from "../format";

test("clock: m:ss, h:mm:ss from one hour, negative reads as 0, never rounds up", () => {
  assert.equal(formatClock(0), "0:00");
  assert.equal(formatClock(59_999), "0:59");
  assert.equal(formatClock(61_000), "1:01");
  assert.equal(formatClock(3_600_000), "1:00:00");
  assert.equal(formatClock(3_723_000), "1:02:03");
  assert.equal(formatClock(-5000), "0:00");
});

test("duration in words: seconds, then minutes, then hours", () => {
  assert.equal(formatDuration(45_000), "45s");
  assert.equal(formatDuration(499), "0s");
  assert.equal(formatDuration(185_000), "3m 05s");
  assert.equal(formatDuration(3_720_000), "1h 02m");
  assert.equal(formatDuration(-1), "0s");
});

test("bytes, viewport sizes and dates", () => {
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(5 * 1024 * 1024), "5.0 MB");
  assert.equal(formatSize(null), "");
  assert.equal(formatSize([1280, 720]), "1280 × 720");
  assert.match(formatDateTime(Date.UTC(2025, 2, 12, 14, 3, 7)), /2025/);
});
