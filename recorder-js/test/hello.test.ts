// E-mail addresses in the page title are redacted before the hello is sent (hello.ts; the server
// redacts them again: tests/ingest/test_title_redaction.py).
import assert from "node:assert/strict";
import { test } from "node:test";
import { redactEmails } from "../src/urls";

test("e-mail addresses in a title become REDACTED", () => {
  assert.equal(
    redactEmails("Account of jane.doe@example.org (jane%40example.org)"),
    "Account of REDACTED (REDACTED)",
  );
  assert.equal(redactEmails("Shop: 2 items @ 10 EUR"), "Shop: 2 items @ 10 EUR");
});
