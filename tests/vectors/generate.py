#!/usr/bin/env python3
"""Generates Countersign's protocol test vectors from an implementation independent of the Rust code.

Everything the protocol hashes or signs is recomputed here from the rules alone:

- JCS (RFC 8785): members sorted by the UTF-16 code units of their names, strings escaped as
  ECMAScript's JSON.stringify does, numbers in ECMAScript's Number::toString form, no white space;
- SHA-256 (hashlib), lowercase hex;
- Ed25519 (RFC 8032, via the `cryptography` package: `pip install cryptography`), signatures
  and public keys as base64url without padding;
- the signed byte strings "countersign/decision/v1\\n" || JCS(decision) and
  "countersign/session/v1\\n" || nonce;
- signed app requests: the eight-line string to sign of "countersign/app-request/v1", signed
  with HMAC-SHA256 (hmac, hashlib) or Ed25519.

Before writing anything the script checks itself against the published examples of RFC 8785
(section 3.2.2, 3.2.3 and Appendix B), RFC 8032 (section 7.1, tests 1 to 3), RFC 4231 (HMAC-SHA256
test cases 1 and 2) and FIPS 180-2 (SHA-256 of "abc"), and stops if any differs.

Usage (from the workspace root):
    python3 tests/vectors/generate.py          # rewrite the vector files
    python3 tests/vectors/generate.py --check  # exit 1 if the files differ from what it would write
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import sys
from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = Path(__file__).resolve().parent

DECISION_DOMAIN = b"countersign/decision/v1\n"
SESSION_DOMAIN = b"countersign/session/v1\n"
APP_REQUEST_DOMAIN = "countersign/app-request/v1"


# --------------------------------------------------------------------------------------------
# JCS (RFC 8785)
# --------------------------------------------------------------------------------------------


class JcsError(ValueError):
    """A value that has no canonical form (non-finite number, lone surrogate, other type)."""


def es_number(x: float) -> str:
    """ECMAScript Number::toString(x) (ECMA-262 section 7.1.12.1), as RFC 8785 section 3.2.2.3 requires.

    Python's repr(float) gives the shortest digit string that reads back as the same double,
    choosing the one nearest to the exact value (the same choice as ECMAScript); only the
    layout differs, and is redone here by ECMAScript's rules.
    """
    if x != x or x in (float("inf"), float("-inf")):
        raise JcsError("NaN and infinities have no JSON form")
    if x == 0:
        return "0"  # also for -0
    if x < 0:
        return "-" + es_number(-x)
    sign, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    # value = 0.<digits> * 10^n with k significant digits
    trailing = len(digits) - len(digits.rstrip("0"))
    digits = digits.rstrip("0")
    exponent += trailing
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    exp = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return digits + "e" + exp
    return digits[0] + "." + digits[1:] + "e" + exp


_SHORT_ESCAPES = {
    0x22: '\\"',
    0x5C: "\\\\",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
}


def jcs_string(s: str) -> str:
    """A string as JSON.stringify writes it (RFC 8785 section 3.2.2.2)."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if 0xD800 <= cp <= 0xDFFF:
            raise JcsError("lone surrogate U+%04X" % cp)
        if cp in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[cp])
        elif cp < 0x20:
            out.append("\\u%04x" % cp)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def utf16_key(name: str) -> bytes:
    """Sort key of a member name: its UTF-16 code units (big-endian bytes sort the same)."""
    return name.encode("utf-16-be", "surrogatepass")


def jcs(value) -> str:
    """The canonical text of a JSON value (dict, list, str, int, float, bool, None)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        # JSON numbers are IEEE 754 doubles: an integer stands for the nearest double.
        return es_number(float(value))
    if isinstance(value, float):
        return es_number(value)
    if isinstance(value, str):
        return jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        names = sorted(value, key=utf16_key)
        return "{" + ",".join(jcs_string(k) + ":" + jcs(value[k]) for k in names) + "}"
    raise JcsError("no JSON form for %r" % type(value))


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise JcsError("duplicate member name %r" % k)
        seen[k] = v
    return seen


def parse_json(text: str):
    """Parses JSON text as I-JSON (RFC 7493): duplicate names and non-finite numbers refused."""

    def bad_constant(name):
        raise JcsError("%s is not JSON" % name)

    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=bad_constant)


def canonical_of_text(text: str) -> str:
    return jcs(parse_json(text))


# --------------------------------------------------------------------------------------------
# Encodings, hashes, keys
# --------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keypair(seed: bytes):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return key, public


def key_id(public: bytes) -> str:
    """The id the service gives a device key: "key_" and the first 16 hex digits of SHA-256(key)."""
    return "key_" + sha256_hex(public)[:16]


# --------------------------------------------------------------------------------------------
# Self-checks against published examples
# --------------------------------------------------------------------------------------------

# RFC 8785 Appendix B: IEEE 754 bit pattern -> canonical text.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]

# RFC 8785 section 3.2.2: input and output of the sample.
RFC8785_SAMPLE_INPUT = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""
RFC8785_SAMPLE_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
)

# RFC 8785 section 3.2.3: sorting of member names.
RFC8785_SORT_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""
RFC8785_SORT_OUTPUT = (
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
    '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
    '"\U0001F600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
)

# RFC 8032 section 7.1: (seed, public key, message, signature), hex.
RFC8032_TESTS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


# RFC 4231 section 4.2 and 4.3: (key, data, HMAC-SHA256 hex).
RFC4231_TESTS = [
    (
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
]


def self_check() -> None:
    for bits, want in RFC8785_NUMBERS:
        (x,) = struct.unpack(">d", bytes.fromhex(bits))
        got = es_number(x)
        assert got == want, "RFC 8785 Appendix B %s: got %s, want %s" % (bits, got, want)
    got = canonical_of_text(RFC8785_SAMPLE_INPUT)
    assert got == RFC8785_SAMPLE_OUTPUT, "RFC 8785 3.2.2 sample: got %s" % got
    got = canonical_of_text(RFC8785_SORT_INPUT)
    assert got == RFC8785_SORT_OUTPUT, "RFC 8785 3.2.3 sorting: got %s" % got
    for seed, public, message, signature in RFC8032_TESTS:
        key, pub = keypair(bytes.fromhex(seed))
        assert pub.hex() == public, "RFC 8032 public key of %s" % seed
        assert key.sign(bytes.fromhex(message)).hex() == signature, "RFC 8032 signature of %s" % seed
    for key, data, tag in RFC4231_TESTS:
        got = hmac.new(key, data, hashlib.sha256).hexdigest()
        assert got == tag, "RFC 4231 HMAC-SHA256 of %r" % data
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for bad in ['["\\ud800"]', '{"a":1,"a":2}', "[NaN]", "[1e400]"]:
        try:
            canonical_of_text(bad)
        except (JcsError, ValueError):
            continue
        raise AssertionError("%s was accepted" % bad)


# --------------------------------------------------------------------------------------------
# jcs.json
# --------------------------------------------------------------------------------------------


def jcs_vectors():
    cases = [
        ("rfc8785-3.2.2-sample", RFC8785_SAMPLE_INPUT, RFC8785_SAMPLE_OUTPUT),
        ("rfc8785-3.2.3-sorting", RFC8785_SORT_INPUT, RFC8785_SORT_OUTPUT),
    ]
    # Appendix B numbers, each written in the shortest text that reads back as the double. The
    # expected output is the RFC's printed one (checked equal to es_number in self_check).
    for bits, want in RFC8785_NUMBERS:
        (x,) = struct.unpack(">d", bytes.fromhex(bits))
        text = "-0.0" if bits == "8000000000000000" else repr(x)
        cases.append(("rfc8785-appendix-b-%s" % bits, "[%s]" % text, "[%s]" % want))
    more = [
        # Key order
        ("sort-prefixes-and-case", '{"b":1,"a":2,"":3,"ab":4,"B":5,"aa":6}', None),
        ("sort-utf16-not-code-points", '{"\\uffff":1,"\\ud800\\udc00":2,"\\ue000":3,"\\u00ff":4}', None),
        ("sort-nested-objects", '{"z":{"y":1,"x":[{"b":1,"a":2}]},"a":[]}', None),
        ("sort-nfc-and-nfd-stay-distinct", '{"e\\u0301":1,"\\u00e9":2}', None),
        # Strings
        (
            "escape-all-c0-controls",
            json.dumps({"s": "".join(chr(c) for c in range(0x20))}),
            None,
        ),
        (
            "no-escape-for-del-slash-line-separators-and-non-ascii",
            '{"s":"\\u007f\\/\\u2028\\u2029\\u00e9\\u202e\\ud83d\\ude00\\ufeff"}',
            None,
        ),
        ("escape-quote-and-backslash", r'["\"", "\\", "\\\"", "a\\b"]', None),
        ("empty-containers-and-literals", ' { "o" : { } , "a" : [ ] , "n" : null , "t" : true , "f" : false } ', None),
        # Numbers that our protocol objects use (integers), and their edges
        ("integers", "[0, -0, 1, -1, 2, 1000000, 4294967296, -4294967297]", None),
        ("integer-2pow53", "[9007199254740992, -9007199254740992]", None),
        ("integer-above-2pow53-rounds-to-double", "[9007199254740993, 18446744073709551615]", None),
        ("integer-written-as-float-or-exponent", "[1.0, 1e2, 10E-1, 0.5e1, 100e-2]", None),
        ("number-layout-thresholds", "[1e20, 1e21, 123e-9, 1e-6, 1e-7, 0.1, 0.000001234]", None),
        # Must be refused (canonical null): no canonical form exists.
        ("lone-surrogate-is-refused", '["\\udc00"]', None),
    ]
    for name, text, _ in more:
        try:
            canonical = canonical_of_text(text)
        except JcsError:
            canonical = None
        cases.append((name, text, canonical))
    # Cases whose expected output is written out by hand as well.
    by_name = {name: canonical for name, _, canonical in cases}
    assert by_name["sort-prefixes-and-case"] == '{"":3,"B":5,"a":2,"aa":6,"ab":4,"b":1}'
    assert by_name["sort-utf16-not-code-points"] == '{"\u00ff":4,"\U00010000":2,"\ue000":3,"\uffff":1}'
    assert by_name["integer-above-2pow53-rounds-to-double"] == "[9007199254740992,18446744073709552000]"
    assert by_name["integer-written-as-float-or-exponent"] == "[1,100,1,5,1]"
    assert by_name["number-layout-thresholds"] == "[100000000000000000000,1e+21,1.23e-7,0.000001,1e-7,0.1,0.000001234]"
    assert by_name["lone-surrogate-is-refused"] is None
    return [{"name": n, "input": t, "canonical": c} for n, t, c in cases]


# --------------------------------------------------------------------------------------------
# statements.json
# --------------------------------------------------------------------------------------------


def statement_vectors():
    bodies = {
        "refund-post-json": b'{"order_id":"ord_42","amount":1999,"currency":"EUR"}',
        "get-empty-body": b"",
        "unicode-reason-and-binary-body": bytes(range(256)),
    }
    statements = {
        "refund-post-json": {
            "v": 1,
            "service": "svc_7f3a9c2e",
            "approval_id": "019ab5f3-8c2e-7a41-9d3b-5e6f7a8b9c0d",
            "app": "support-agent",
            "grant": "payments",
            "method": "POST",
            "url": "https://api.payments.example/v1/refunds?notify=true",
            "headers": {"content-type": "application/json", "x-request-source": "agent"},
            "reason": "Refund order ord_42 (customer charged twice)",
            "created_at": "2026-11-24T12:00:00Z",
            "expires_at": "2026-11-24T13:00:00Z",
            "policy_id": "refunds",
        },
        "get-empty-body": {
            "v": 1,
            "service": "svc_7f3a9c2e",
            "approval_id": "019ab5f4-0000-7000-8000-000000000001",
            "app": "reporting",
            "grant": "crm",
            "method": "GET",
            "url": "https://crm.example/api/contacts?cursor=a%2Fb&limit=10",
            "headers": {},
            "reason": "Export contacts",
            "created_at": "2026-11-24T12:00:00Z",
            "expires_at": "2026-11-24T12:15:00Z",
            "policy_id": "crm-read",
        },
        "unicode-reason-and-binary-body": {
            "v": 1,
            "service": "svc_7f3a9c2e",
            "approval_id": "019ab5f5-1234-7abc-bdef-0123456789ab",
            "app": "ops-bot",
            "grant": "storage",
            "method": "PUT",
            "url": "https://storage.example/b%C3%BCcket/%F0%9F%93%A6.bin",
            "headers": {
                "content-type": "application/octet-stream",
                "x-meta-note": "caf\u00e9",
                "a-first": "sorted before content-type",
            },
            "reason": (
                "Upload r\u00e9sum\u00e9 \U0001F4E6 for \u00c5sa \u2014 \"quoted\" \\ back\\slash\n"
                "tab\there, bell\u0007, nul\u0000, unit-sep\u001f, del\u007f, "
                "bidi: \u202eTXT.EXE\u202c and \u2066isolate\u2069, line-sep\u2028, "
                "CJK \u4e2d\u6587, ZWJ family \U0001F468\u200d\U0001F469\u200d\U0001F467"
            ),
            "created_at": "2026-11-24T23:59:59Z",
            "expires_at": "2026-11-25T00:59:59Z",
            "policy_id": "storage-write",
        },
    }
    out = []
    for name, s in statements.items():
        body = bodies[name]
        statement = dict(s)
        statement["body_sha256"] = sha256_hex(body)
        statement["body_size"] = len(body)
        # Field order as in countersign_core::Statement (order does not matter to JCS).
        order = [
            "v", "service", "approval_id", "app", "grant", "method", "url", "headers",
            "body_sha256", "body_size", "reason", "created_at", "expires_at", "policy_id",
        ]
        assert sorted(order) == sorted(statement)
        statement = {k: statement[k] for k in order}
        canonical = jcs(statement)
        out.append(
            {
                "name": name,
                "statement": statement,
                "body": b64url(body),
                "canonical": canonical,
                "request_digest": sha256_hex(canonical.encode("utf-8")),
            }
        )
    assert out[1]["statement"]["body_sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    return out


# --------------------------------------------------------------------------------------------
# decisions.json and sessions.json
# --------------------------------------------------------------------------------------------

SEEDS = [
    # RFC 8032 section 7.1 TEST 1
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
    bytes(range(32)),
    hashlib.sha256(b"countersign test vector seed 3").digest(),
]


def decision_vectors(statements):
    digest = {s["name"]: s["request_digest"] for s in statements}
    approval = {s["name"]: s["statement"]["approval_id"] for s in statements}
    cases = [
        ("approve-no-comment", 0, "refund-post-json", "approve", None, "alice", "2026-11-24T12:03:00Z"),
        (
            "deny-with-unicode-comment",
            1,
            "refund-post-json",
            "deny",
            "Wrong amount \u2014 ask \"finance\" first.\nTicket \u2705 #42 \U0001F600 \u202eevil",
            "bob",
            "2026-11-24T12:04:59Z",
        ),
        ("approve-empty-comment", 2, "get-empty-body", "approve", "", "carol", "2026-11-24T12:00:01Z"),
        ("deny-unicode-statement", 0, "unicode-reason-and-binary-body", "deny", "no", "alice", "2026-11-25T00:00:00Z"),
    ]
    out = []
    for name, seed_index, statement, verdict, comment, approver, at in cases:
        seed = SEEDS[seed_index]
        key, public = keypair(seed)
        decision = {
            "v": 1,
            "approval_id": approval[statement],
            "request_digest": digest[statement],
            "decision": verdict,
            "comment": comment,
            "decided_at": at,
            "approver_id": approver,
            "key_id": key_id(public),
        }
        signing_input = DECISION_DOMAIN + jcs(decision).encode("utf-8")
        signature = key.sign(signing_input)
        key.public_key().verify(signature, signing_input)
        out.append(
            {
                "name": name,
                "seed": seed.hex(),
                "public_key": b64url(public),
                "decision": decision,
                "signing_input": signing_input.hex(),
                "signature": b64url(signature),
            }
        )
    return out


def session_vectors():
    cases = [
        ("random-token-nonce", 0, b64url(hashlib.sha256(b"countersign nonce 1").digest())),
        ("other-key", 1, b64url(hashlib.sha256(b"countersign nonce 2").digest())),
        ("empty-nonce", 2, ""),
    ]
    out = []
    for name, seed_index, nonce in cases:
        seed = SEEDS[seed_index]
        key, public = keypair(seed)
        signing_input = SESSION_DOMAIN + nonce.encode("utf-8")
        signature = key.sign(signing_input)
        out.append(
            {
                "name": name,
                "seed": seed.hex(),
                "public_key": b64url(public),
                "nonce": nonce,
                "signing_input": signing_input.hex(),
                "signature": b64url(signature),
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# app-signing.json
# --------------------------------------------------------------------------------------------


def app_string_to_sign(app, method, path, query, timestamp, nonce, body: bytes) -> str:
    """The eight lines an app signs, joined by LF, without a trailing LF."""
    for field in (app, method, path, query, timestamp, nonce):
        assert "\n" not in field
    return "\n".join(
        [APP_REQUEST_DOMAIN, app, method, path, query, timestamp, nonce, sha256_hex(body)]
    )


def app_signing_vectors():
    approval = "019a0000-0000-7000-8000-00000000000a"
    refund = b'{"amount":1500,"charge":"ch_123","note":"caf\xc3\xa9 \xe2\x82\xac"}'
    proxy = json.dumps(
        {
            "grant": "payments",
            "method": "POST",
            "path": "/v1/refunds",
            "reason": "Refund order #1042",
            "body": b64url(refund),
        },
        separators=(",", ":"),
    ).encode("utf-8")
    hmac_secret = "cs_hmac_" + b64url(hashlib.sha256(b"countersign app secret 1").digest())
    other_secret = "cs_hmac_" + b64url(hashlib.sha256(b"countersign app secret 2").digest())
    cases = [
        # name, app, algorithm, key, method, path, query, timestamp, nonce, body
        ("hmac-proxy-post", "support-agent", "hmac-sha256", hmac_secret, "POST", "/v1/proxy", "",
         "2026-11-24T12:00:00Z", "bm9uY2UtMDAwMDAwMDE", proxy),
        ("hmac-long-poll-get", "support-agent", "hmac-sha256", hmac_secret, "GET",
         "/v1/approvals/" + approval, "wait=25", "2026-11-24T12:00:05Z", "AAAAAAAAAAAAAAAAAAAAAA", b""),
        ("hmac-other-app-max-nonce", "other-agent", "hmac-sha256", other_secret, "POST",
         "/v1/approvals/" + approval + "/cancel", "", "2026-12-31T23:59:59Z",
         "-_" + "Zz09" * 15 + "-_", b""),
        ("ed25519-proxy-post", "backend.batch", "ed25519", 1, "POST", "/v1/proxy", "",
         "2026-11-24T12:00:00Z", "ZWQyNTUxOS1ub25jZS0x", proxy),
        ("ed25519-raw-query-and-path", "backend.batch", "ed25519", 1, "GET",
         "/v1/approvals/" + approval, "wait=3&wait=25&a=%2F%20x", "2027-01-01T00:00:00Z",
         "0123456789abcdef", b""),
        ("ed25519-every-byte-body", "backend.batch", "ed25519", 1, "POST",
         "/v1/proxy", "", "2027-01-01T00:00:01Z", "Ynl0ZXMtMDAwMDAwMDA", bytes(range(256))),
        ("hmac-escaped-path", "support-agent", "hmac-sha256", hmac_secret, "POST",
         "/v1/approvals/019a0000-0000-7000-8000-00000000000%41/cancel", "", "2027-01-01T00:00:02Z",
         "ZXNjYXBlZC1wYXRoLTAx", b""),
    ]
    out = []
    for name, app, algorithm, key, method, path, query, timestamp, nonce, body in cases:
        assert 16 <= len(nonce) <= 64
        text = app_string_to_sign(app, method, path, query, timestamp, nonce, body)
        entry = {
            "name": name,
            "app": app,
            "algorithm": algorithm,
            "method": method,
            "path": path,
            "query": query,
            "timestamp": timestamp,
            "nonce": nonce,
            "body": b64url(body),
        }
        if algorithm == "hmac-sha256":
            assert len(key.encode("utf-8")) >= 32
            signature = hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
            entry["secret"] = key
        else:
            seed = hashlib.sha256(b"countersign app key %d" % key).digest()
            private, public = keypair(seed)
            signature = private.sign(text.encode("utf-8"))
            entry["private_key"] = b64url(seed)
            entry["public_key"] = b64url(public)
        entry["string_to_sign"] = text
        entry["signature"] = b64url(signature)
        entry["headers"] = {
            "countersign-app": app,
            "countersign-timestamp": timestamp,
            "countersign-nonce": nonce,
            "countersign-signature": b64url(signature),
        }
        out.append(entry)
    return out


# --------------------------------------------------------------------------------------------


def render(value) -> str:
    # ASCII only: invisible and bidirectional characters show as \uXXXX in the files.
    return json.dumps(value, ensure_ascii=True, indent=2) + "\n"


def main(argv) -> int:
    self_check()
    statements = statement_vectors()
    files = {
        "jcs.json": render(jcs_vectors()),
        "statements.json": render(statements),
        "decisions.json": render(decision_vectors(statements)),
        "sessions.json": render(session_vectors()),
        "app-signing.json": render(app_signing_vectors()),
    }
    if "--check" in argv:
        stale = [n for n, text in files.items() if not (HERE / n).exists() or (HERE / n).read_text() != text]
        for n in stale:
            print("stale: tests/vectors/%s (run python3 tests/vectors/generate.py)" % n, file=sys.stderr)
        return 1 if stale else 0
    for n, text in files.items():
        (HERE / n).write_text(text)
        print("wrote tests/vectors/%s" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
