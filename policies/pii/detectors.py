"""One detector per kind: a precompiled candidate regex, then validation.

Each detector makes at most one scanning regex pass over the text (secret
adds one for PEM blocks, run only when "-----BEGIN " occurs); checksums,
lengths and context are then checked in Python on the few candidates. Patterns
are built so that CPython's `re` can skip ahead cheaply: they start with a
literal or a narrow character class (a boundary lookbehind, when needed, is
checked after the first character rather than before it, which would disable
that skip), and repeats that could split a digit run several ways are
possessive, so a near-miss never backtracks exponentially. Substring tests
(C speed) skip a detector when its anchor cannot occur ("@" for e-mail, the
provider prefixes for API keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final

from policies.pii import checks
from policies.pii.finding import Finding, Kind

Detector = Callable[[str], Iterator[Finding]]

# --- e-mail -------------------------------------------------------------------
# Anchored on "@" (a literal, so the scan is a fast substring search); the local
# part is then read backwards. Domains may be internationalised (\w is Unicode).
_EMAIL_DOMAIN: Final = re.compile(
    r"@((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63})(?![\w-]|\.[^\W_])"
)
_LOCAL_EXTRA: Final = frozenset("._%+-")


def emails(text: str) -> Iterator[Finding]:
    if "@" not in text:
        return
    for m in _EMAIL_DOMAIN.finditer(text):
        at = m.start()
        i = at
        while i > 0 and at - i <= 64 and (text[i - 1].isalnum() or text[i - 1] in _LOCAL_EXTRA):
            i -= 1
        if at - i > 64:
            continue  # longer than any valid local part: not an address
        while i < at and text[i] == ".":
            i += 1
        if i == at or text[at - 1] == ".":
            continue
        if i > 0 and text[i - 1] == ":" and "://" in _token_before(text, i):
            continue  # https://user:password@host: the secret detector's url rule takes it
        yield Finding("email", i, m.end(), text[i:m.end()], "email")


def _token_before(text: str, i: int) -> str:
    """The whitespace-free run of text ending at i (bounded: URLs are short)."""
    j = i
    while j > 0 and i - j < 512 and not text[j - 1].isspace():
        j -= 1
    return text[j:i]


# --- phone --------------------------------------------------------------------
# Candidates: digit groups joined by single separators (space . - /), an
# optional leading "+" or "(area)", and "(0)" trunk marks inside; a bare digit
# run is not a candidate (without "+" it needs a separator). Every digit run
# and the group repetition are possessive: a candidate is taken whole or not
# at all, never re-split. The lookbehind keeps a candidate from starting inside
# a larger number ("3 612 345 678" is an amount, not "612 345 678").
_SEP_GROUP: Final = r"(?:(?:[ .\-/]|\ ?\([0-9]{1,5}\)\ ?)[0-9]++)"
# Lookahead after the first character: at least 8 more digits follow, with at
# most 3 separator characters between any two (every accepted format has 9+
# digits). It rejects short numbers, dates and amounts inside the regex engine
# instead of one Python call each.
_ENOUGH_DIGITS: Final = r"(?=\+?(?:[ .\-/()]{0,3}[0-9]){8})"
_PHONE_CANDIDATE: Final = re.compile(
    r"[+(0-9](?<![\w+.,/\-][+(0-9])" + _ENOUGH_DIGITS +
    r"(?:(?<=\+)[0-9]++" + _SEP_GROUP + r"*+"  # +33 6 12 34 56 78, +14155552671
    r"|(?<=\()\+?[0-9]{1,5}\)\ ?[0-9]++" + _SEP_GROUP + r"*+"  # (415) 555-2671, (030) 1234567
    r"|(?<=[0-9])[0-9]*+" + _SEP_GROUP + r"++)"  # 06 12 34 56 78: at least one separator
    r"(?!\w)"
)
# National formats, matched against the whole candidate. A bare digit run is
# never a phone number here: "4155552671" in prose is as likely an id.
_NATIONAL: Final = re.compile(
    # US / NANP: (415) 555-2671, 415-555-2671, 415.555.2671, 1-415-555-2671.
    # Area and exchange codes start with 2-9 (so 123-456-7890 is not a phone).
    r"(?P<us>(?:1[ .-]?)?(?:\([2-9]\d\d\)\ ?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{4})"
    # FR: 06 12 34 56 78, 01.23.45.67.89 (one separator used throughout).
    r"|(?P<fr>0[1-9](?P<fs>[ .-])\d\d(?:(?P=fs)\d\d){3})"
    # ES: 612 345 678, 612 34 56 78, 91 123 45 67 (no trunk prefix; 6-9 first).
    r"|(?P<es>[6-9]\d\d(?P<e1>[ .-])\d{3}(?P=e1)\d{3}"
    r"|[6-9]\d\d(?P<e2>[ .-])\d\d(?P=e2)\d\d(?P=e2)\d\d"
    r"|[89]\d(?P<e3>[ .-])\d{3}(?P=e3)\d\d(?P=e3)\d\d)"
    # DE / UK (trunk 0 + area code): 030 12345678, 030/1234567, (030) 1234567,
    # 0171 1234567, 020 7946 0958, 07700 900123. Digit count checked below.
    r"|(?P<trunk>(?:\(0\d{1,4}\)\ ?|0\d{1,4}[ /-])\d{2,8}(?:[ -]\d{2,8}){0,2})"
)
# Words right before a number that say it is not a phone number.
_NOT_PHONE_BEFORE: Final = re.compile(
    r"(?:\b(?:order|invoice|ref|reference|ticket|tracking|serial|sku|commande|facture|référence|pedido|factura"
    r"|referencia|bestell\w*|rechnung\w*|auftrag\w*)\b|#)\W{0,4}$",
    re.IGNORECASE,
)
# ...and units right after it (thousand-separated amounts look like ES numbers).
_NOT_PHONE_AFTER: Final = re.compile(
    r"\s?(?:[€$£¥%]|(?:eur|usd|gbp|chf|euros?|dollars?|pesos?|km|kg|mio|millions?)\b)", re.IGNORECASE
)


def phones(text: str) -> Iterator[Finding]:
    for m in _PHONE_CANDIDATE.finditer(text):
        cand = m.group()
        rule = _phone_rule(cand)
        if rule is None:
            continue
        start, end = m.span()
        if rule != "e164":
            if _NOT_PHONE_BEFORE.search(text, max(0, start - 32), start):
                continue
            if _NOT_PHONE_AFTER.match(text, end):
                continue
        yield Finding("phone", start, end, cand, rule)


def _phone_rule(cand: str) -> str | None:
    if cand[0] == "+" or cand.startswith("(+"):
        # E.164: country code (not starting with 0) + subscriber, 8-15 digits.
        # The "+" is the structure; "(0)" is the national trunk mark, not a digit.
        digits = [c for c in cand.replace("(0)", "") if c.isdigit()]
        if 8 <= len(digits) <= 15 and digits[0] != "0":
            return "e164"
        return None
    m = _NATIONAL.fullmatch(cand)
    if m is None:
        return None
    for rule in ("us", "fr", "es"):
        if m.group(rule) is not None:
            return rule
    # German and British numbers with trunk 0 have 10-12 digits (shorter ones
    # exist, but 9 digits with a leading 0 are as often dates or codes).
    n = sum(c.isdigit() for c in cand)
    return "de_uk" if 10 <= n <= 12 else None


# --- credit cards ---------------------------------------------------------------
# 13-19 digits, single spaces or dashes between them; grouping, issuer prefix
# and Luhn are checked afterwards. The lookbehind sits after the first digit.
_CARD: Final = re.compile(r"[0-9](?<![\w.,\-][0-9])(?:[ -]?[0-9]){12,18}(?![0-9])")


def credit_cards(text: str) -> Iterator[Finding]:
    for m in _CARD.finditer(text):
        cand = m.group()
        # "4111 1111 1111 1111 123": a CVV or a year may follow in the same
        # grouping, so drop trailing groups until the rest checks out.
        sep = "-" if "-" in cand else " "
        groups = cand.split(sep)
        if len(groups) > 1 and len(groups[0]) not in (4, 6):
            continue  # every grouping people write starts with 4 (or 6) digits
        for k in range(len(groups), 0, -1):
            part = sep.join(groups[:k])
            digits = part.replace(" ", "").replace("-", "")
            if len(digits) < 13:
                break
            if not checks.card_grouping_ok(part):
                continue
            brand = checks.card_brand(digits)
            if brand is not None and checks.luhn_ok(digits):
                yield Finding("credit_card", m.start(), m.start() + len(part), part, brand)
                break


# --- IBAN -------------------------------------------------------------------------
# Country code, check digits, then alphanumerics optionally grouped by single
# spaces. The exact length comes from the country, so the candidate is cut
# there (the regex may run on into a following upper-case word).
_IBAN: Final = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9][0-9](?:\ ?[A-Z0-9]){11,30}")


def ibans(text: str) -> Iterator[Finding]:
    pos = 0
    while (m := _IBAN.search(text, pos)) is not None:
        start = m.start()
        pos = start + 1
        if start > 0 and text[start - 1].isalnum():
            continue  # glued to a preceding non-ASCII letter (the lookbehind saw ASCII ones)
        length = checks.IBAN_LENGTHS.get(text[start:start + 2])
        if length is None:
            continue
        chars: list[str] = []
        i = start
        while len(chars) < length and i < m.end():
            if text[i] != " ":
                chars.append(text[i])
            i += 1
        if len(chars) < length or (i < len(text) and text[i].isalnum()):
            continue  # too short, or glued to more characters: not this IBAN
        iban = "".join(chars)
        if checks.iban_ok(iban):
            yield Finding("iban", start, i, text[start:i], iban[:2].lower())
            pos = i


# --- US SSN ---------------------------------------------------------------------
_SSN: Final = re.compile(r"[0-9](?<![\w\-][0-9])[0-9][0-9]-[0-9][0-9]-[0-9]{4}(?![\w]|-[0-9])")


def us_ssns(text: str) -> Iterator[Finding]:
    if "-" not in text:
        return
    for m in _SSN.finditer(text):
        s = m.group()
        if checks.ssn_ok(s[0:3], s[4:6], s[7:11]):
            yield Finding("us_ssn", m.start(), m.end(), s, "us_ssn")


# --- IP addresses -----------------------------------------------------------------
# Four dotted numbers that are valid octets are reported as IPv4, including
# version-like strings such as 1.2.3.4: the text alone cannot tell them apart,
# and leaking an address is worse than masking a version. "v1.2.3.4" is not
# matched (glued to a letter), nor is 1.2.3.4.5 (a fifth part).
_IPV4: Final = re.compile(r"[0-9](?<![\w.][0-9])[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?![\w]|\.[0-9])")


def ipv4s(text: str) -> Iterator[Finding]:
    if "." not in text:
        return
    for m in _IPV4.finditer(text):
        if checks.ipv4_ok(m.group()):
            yield Finding("ipv4", m.start(), m.end(), m.group(), "ipv4")


# IPv6: anchored on a colon followed (within one hex group) by another colon,
# then widened both ways over hex digits, colons and dots (embedded IPv4); the
# stdlib `ipaddress` decides. Times (12:30:45) and MAC addresses fail there.
_IPV6_ANCHOR: Final = re.compile(r":[0-9A-Fa-f]{0,4}:")
_IPV6_CHARS: Final = frozenset("0123456789abcdefABCDEF:.")


def ipv6s(text: str) -> Iterator[Finding]:
    if "::" not in text and text.count(":") < 2:
        return
    pos = 0
    n = len(text)
    while (m := _IPV6_ANCHOR.search(text, pos)) is not None:
        start, end = m.start(), m.end()
        while start > 0 and text[start - 1] in _IPV6_CHARS and m.start() - start < 40:
            start -= 1
        # The whole run, however long, so that the next search starts after it
        # (a long run of colons or hex would otherwise be re-anchored at every
        # colon); a run longer than any address is rejected at once.
        while end < n and text[end] in _IPV6_CHARS:
            end += 1
        pos = end
        if end - start > 45:
            continue
        # Sentence punctuation after an address is not part of it.
        while end > start and text[end - 1] == ".":
            end -= 1
        cand = text[start:end]
        if (start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")) or (
            end < n and (text[end].isalnum() or text[end] == "_")
        ):
            continue  # part of a longer word (std::vector, a hash)
        # Real addresses carry a digit; without this "dead::beef" or "ab::cd"
        # in code would count.
        if not any(c.isdigit() for c in cand) or not checks.ipv6_ok(cand):
            continue
        yield Finding("ipv6", start, end, cand, "ipv6")


# --- API keys and tokens ------------------------------------------------------------
# Provider-shaped keys. Every alternative starts with a literal character, so
# `re` skips ahead to the next s/r/A/g/x/e; and the whole pass is skipped unless
# one of the prefixes occurs at all (a C-speed substring test per prefix).
_API_KEY_PREFIXES: Final = (
    "sk-", "sk_live_", "sk_test_", "rk_live_", "rk_test_", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "github_pat_", "xoxa-", "xoxb-", "xoxp-", "xoxr-", "AIza", "eyJ",
)
_API_KEY: Final = re.compile(
    r"sk-ant-[A-Za-z0-9_\-]{20,}"  # Anthropic (before OpenAI: both start with sk-)
    r"|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"  # OpenAI
    r"|sk_(?:live|test)_[A-Za-z0-9]{16,}|rk_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe secret / restricted
    r"|AKIA[A-Z0-9]{16}|ASIA[A-Z0-9]{16}"  # AWS access key ids (long-lived / temporary)
    r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"  # GitHub tokens
    r"|xox[abpr]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|AIza[A-Za-z0-9_\-]{35}"  # Google API keys
    r"|eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]+"  # JWT: header.payload.signature
)


def _api_key_rule(value: str) -> str:
    if value.startswith("sk-ant-"):
        return "anthropic"
    if value.startswith("sk-"):
        return "openai"
    if value.startswith(("sk_", "rk_")):
        return "stripe"
    if value.startswith(("AKIA", "ASIA")):
        return "aws"
    if value.startswith(("gh", "github_pat_")):
        return "github"
    if value.startswith("xox"):
        return "slack"
    if value.startswith("AIza"):
        return "google"
    return "jwt"


def api_keys(text: str) -> Iterator[Finding]:
    if not any(prefix in text for prefix in _API_KEY_PREFIXES):
        return
    for m in _API_KEY.finditer(text):
        start, end = m.span()
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
            continue  # inside a longer identifier ("task-...", "mask_live_...")
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue  # runs on past the key's alphabet: not this key
        value = m.group()
        rule = _api_key_rule(value)
        if rule in ("openai", "anthropic", "slack"):
            # Real keys mix letters and digits; "sk-some-very-long-kebab-name" doesn't.
            body = value.split("-", 1)[1]
            if not (any(c.isdigit() for c in body) and any(c.isalpha() for c in body)):
                continue
        elif rule == "jwt" and not checks.jwt_header_ok(value.split(".", 1)[0]):
            continue
        yield Finding("api_key", start, end, value, rule)


# --- secrets: private keys, Authorization headers, credentials in URLs, assignments --
# PEM private key blocks, whole. A truncated block (no END line) is taken as far
# as its base64 body goes.
_PEM_BEGIN: Final = "-----BEGIN "
_PRIVATE_KEY: Final = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
    r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|[A-Za-z0-9+/=\s:,\-]*)"
)
# Names whose value is a secret, compared on the lower-cased name with "-" as
# "_". The name may carry a prefix (OPENAI_API_KEY, db_password, dbPassword).
_SECRET_NAMES: Final = (
    "api_key", "apikey", "secret", "secret_key", "client_secret", "token", "access_token", "refresh_token",
    "auth_token", "bearer_token", "password", "passwd", "passwort", "kennwort", "contraseña", "contrasena",
    "passphrase", "pwd", "access_key", "access_key_id", "secret_access_key", "private_key", "credential",
    "credentials", "authorization",
)
# The last three characters of every secret name ("mot de passe" is read as
# "passe"; "-id" for access-key-id), as written in lower case, UPPER case or
# Capitalised (apiKey, SECRET, Password): a case-sensitive alternation is twice
# as fast as (?i:...) inside lookbehinds.
_NAME_END_TRIGRAMS: Final = frozenset({n[-3:] for n in _SECRET_NAMES} | {"sse", "-id"})
_NAME_ENDS: Final = "(?:" + "|".join(sorted({
    v for t in _NAME_END_TRIGRAMS for v in (t, t.upper(), t[0].upper() + t[1:])
})) + ")"
# Everything else hangs off an operator: `name = value`, `name: value`,
# `"name": "value"`, `Authorization: Bearer value`, `scheme://user:pass@host`.
# The pass stops only at ":" and "="; there, fixed-width lookbehinds test the
# last three letters of the name against the secret names' endings (key, ret,
# ken, ord...), so `"score": 0.5` or `a = b` is dismissed inside the regex
# engine. `_secret_name` then checks the whole name in Python.
_OPERATOR_VALUE: Final = re.compile(
    r"[:=](?:"
    r"(?<=:)//[^\s/:@]{1,128}:(?P<url>[^\s/@]{1,256})@"
    r"|(?:(?<=" + _NAME_ENDS + r"[:=])|(?<=" + _NAME_ENDS + r"[\"' ][:=])|(?<=" + _NAME_ENDS + r"[\"'] [:=]))"
    r"[>=]?[ \t]*[\"']?(?P<scheme>(?i:bearer|basic|token)[ \t]+)?(?P<value>[^\s\"'`<>]{8,256})"
    r")"
)
_NAME_CHARS: Final = frozenset("_-.")
# Values that are references or stand-ins, not secrets.
_NOT_A_VALUE: Final = re.compile(
    r"[$%{<\[]|(?:os\.|process\.env|getenv|env\(|secrets\.)|.*(?:your|here|example|placeholder|xxxx|\*\*\*|changeme"
    r"|redacted|dummy)",
    re.IGNORECASE,
)
# A generic value must look random: Shannon entropy (bits per character) at
# least this. Passwords get a lower bar: people pick them, and a name like
# "password" already says what the value is (but "changeme" is still refused).
ENTROPY_THRESHOLD: Final = 3.0
PASSWORD_ENTROPY_THRESHOLD: Final = 2.5
_PASSWORD_NAMES: Final = ("password", "passwd", "passwort", "kennwort", "contraseña", "contrasena", "passphrase",
                          "pwd", "mot de passe")
_TRAILING_PUNCT: Final = ".,;:)]}!?"
# In `token=abc123&user=bob` or `password=x1y2z3w4,user=bob` the value ends
# where the next name=value pair starts.
_NEXT_PAIR: Final = re.compile(r"[&,;](?=[A-Za-z_][\w.\-]*=)")


def _secret_name(text: str, op: int) -> str | None:
    """The secret-looking name right before the operator at `op`, lower-cased, or None."""
    j = op
    while j > 0 and op - j < 4 and text[j - 1] in " \t\"'":
        j -= 1
    k = j
    while k > 0 and j - k < 64 and (text[k - 1].isalnum() or text[k - 1] in _NAME_CHARS):
        k -= 1
    raw = text[k:j]
    if not raw:
        return None
    name = raw.lower().replace("-", "_")
    if len(name) != len(raw):  # lower() lengthened a character (İ): compare on the lower-cased name
        raw = name
    if name == "passe" and text[max(0, k - 7):k].lower() == "mot de ":
        return "mot de passe"
    if not name.endswith(_SECRET_NAMES):  # one C call rejects most names
        return None
    for word in _SECRET_NAMES:
        if name.endswith(word):
            cut = len(name) - len(word)
            # The keyword must start a word of the name: db_password and
            # dbPassword yes, "bypassword" or "imtoken" no.
            if cut == 0 or raw[cut - 1] in _NAME_CHARS or (raw[cut].isupper() and raw[cut - 1].islower()):
                return name
    return None


def secrets(text: str) -> Iterator[Finding]:
    if _PEM_BEGIN in text:
        for m in _PRIVATE_KEY.finditer(text):
            yield Finding("secret", m.start(), m.end(), m.group(), "private_key")
    if ":" not in text and "=" not in text:
        return
    # A manual loop, not finditer: a rejected candidate's value may contain the
    # next operator (name: https://host/?token=...), so the search resumes
    # right after the operator; after a finding, after its value.
    pos = 0
    while (m := _OPERATOR_VALUE.search(text, pos)) is not None:
        finding = _operator_secret(text, m)
        if finding is None:
            pos = m.start() + 1
        else:
            yield finding
            pos = finding.end


def _operator_secret(text: str, m: re.Match[str]) -> Finding | None:
    op = m.start()
    if m.group("url") is not None:
        return Finding("secret", m.start("url"), m.end("url"), m.group("url"), "url")
    name = _secret_name(text, op)
    if name is None:
        return None
    start = m.start("value")
    value = _NEXT_PAIR.split(m.group("value"), maxsplit=1)[0].rstrip(_TRAILING_PUNCT)
    if name == "authorization":
        if not (m.group("scheme") and value):
            return None
        return Finding("secret", start, start + len(value), value, "authorization")
    bar = PASSWORD_ENTROPY_THRESHOLD if name.endswith(_PASSWORD_NAMES) else ENTROPY_THRESHOLD
    if len(value) < 8 or _NOT_A_VALUE.match(value) or checks.shannon_entropy(value) < bar:
        return None
    return Finding("secret", start, start + len(value), value, "assignment")


DETECTORS: Final[dict[Kind, Detector]] = {
    "email": emails,
    "phone": phones,
    "credit_card": credit_cards,
    "iban": ibans,
    "us_ssn": us_ssns,
    "ipv4": ipv4s,
    "ipv6": ipv6s,
    "api_key": api_keys,
    "secret": secrets,
}
