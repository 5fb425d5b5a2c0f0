// URL redaction before anything leaves the page (same rules as the server's
// replay_server/privacy/urls.py, which enforces them again; docs/privacy.md "URLs"):
// the fragment and userinfo are dropped, values of query parameters whose names look
// secret or personal become REDACTED (unless the site allows the name; names it denies
// are redacted too), and e-mail addresses anywhere become REDACTED.

const REDACTED = "REDACTED";
// anywhere in the lower-cased name, separators removed
const FRAGMENTS =
  "token secret passw pwd auth session apikey accesskey privatekey signature credential email mail phone mobile firstname lastname fullname surname username address birth ssn iban jwt bearer saml".split(
    " ",
  );
// whole words of the name only
const WORDS = "key code sid sig otp pin tel name user login nonce ticket cc cvv dob".split(" ");
// bounded repeats: unbounded ones backtrack quadratically on a long "aaa...a@"
const EMAIL = /[A-Za-z0-9._%+-]{1,64}(?:@|%40)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g;
const WORD = /[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])/g;

/** E-mail addresses in any text (the page title in the hello) become REDACTED, as in URLs. */
export function redactEmails(text: string): string {
  return text.replace(EMAIL, REDACTED);
}

export interface UrlLists {
  urlParamsAllow: string[];
  urlParamsDeny: string[];
}

function decode(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
}

export function secretName(name: string, lists: UrlLists | null): boolean {
  const lower = name.trim().toLowerCase();
  if (lists && lists.urlParamsDeny.indexOf(lower) >= 0) return true;
  if (lists && lists.urlParamsAllow.indexOf(lower) >= 0) return false;
  const squashed = lower.replace(/[^a-z0-9]+/g, "");
  if (FRAGMENTS.some((f) => squashed.indexOf(f) >= 0)) return true;
  return (name.match(WORD) || []).some((w) => WORDS.indexOf(w.toLowerCase()) >= 0);
}

export function redactUrl(url: string, lists: UrlLists | null): string {
  const hash = url.indexOf("#");
  let noHash = hash < 0 ? url : url.slice(0, hash);
  // the server keeps only the origin of a URL this long (it may have been cut inside an address)
  if (noHash.length >= 8192) noHash = noHash.split("/", 3).join("/").split("?")[0] + "/";
  const q = noHash.indexOf("?");
  let base = q < 0 ? noHash : noHash.slice(0, q);
  base = base.replace(/^([^/]*\/\/)[^/]*@/, "$1"); // userinfo
  if (q >= 0) {
    const params = noHash.slice(q + 1).split("&").map((p) => {
      const eq = p.indexOf("=");
      return eq > 0 && eq < p.length - 1 && secretName(decode(p.slice(0, eq)), lists)
        ? p.slice(0, eq + 1) + REDACTED
        : p;
    });
    base += "?" + params.join("&");
  }
  return base.replace(EMAIL, REDACTED);
}
