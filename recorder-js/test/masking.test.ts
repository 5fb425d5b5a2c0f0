// rrweb's masking options for a site config (recorder.ts rrwebOptions): contenteditable text is
// masked whatever the settings.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_CONFIG } from "../src/config";
import { EDITABLE_SELECTOR, rrwebOptions } from "../src/recorder";

test("text inside contenteditable elements is masked by default", () => {
  assert.equal(rrwebOptions(DEFAULT_CONFIG).maskTextSelector, EDITABLE_SELECTOR);
  assert.match(EDITABLE_SELECTOR, /^\[contenteditable\]:not\(\[contenteditable="false" i\]\)$/);
});

test("masking all text still masks everything", () => {
  assert.equal(rrwebOptions({ ...DEFAULT_CONFIG, maskAllText: true }).maskTextSelector, "*");
});
