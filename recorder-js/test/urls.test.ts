import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { redactUrl } from "../src/urls";

// The server's table (tests/privacy/test_urls.py): the recorder redacts as the server does.
interface Table {
  default: [string, string][];
  lists: { allow: string[]; deny: string[]; cases: [string, string][] };
}
const table = JSON.parse(readFileSync("tests/fixtures/url_redaction.json", "utf8")) as Table;

test("default rules: the server's table", () => {
  for (const [url, expected] of table.default) {
    assert.equal(redactUrl(url, null), expected, url);
    assert.equal(redactUrl(expected, null), expected, expected);
  }
});

test("the site's allow and deny lists", () => {
  const lists = { urlParamsAllow: table.lists.allow.map((n) => n.toLowerCase()), urlParamsDeny: table.lists.deny };
  for (const [url, expected] of table.lists.cases) assert.equal(redactUrl(url, lists), expected, url);
});

test("a URL of 8192 characters or more keeps only its origin, as on the server", () => {
  assert.equal(redactUrl("https://u@a.example/p?" + "a".repeat(9000) + "@", null), "https://a.example/");
});
