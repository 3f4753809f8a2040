"""Reading real-world mail with the standard library, without ever crashing on it.

:func:`parse` turns raw bytes into a :class:`ParsedMail`. Mail in the wild has missing or
duplicated Message-IDs, broken dates, undeclared or wrong charsets, malformed MIME
boundaries and attachments inside attachments; every header and part is read
defensively, and what cannot be read is reported in ``ParsedMail.defects`` rather than
raised. Only bytes that are not a mail at all (no header block) raise
:class:`Unparseable`.
"""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import functools
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any

#: Charsets mislabelled so often that the label is better ignored.
CHARSET_ALIASES = {
    "unknown-8bit": "windows-1252",
    "x-unknown": "windows-1252",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "windows-1252",  # what senders labelled Latin-1 almost always is
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
}
MESSAGE_ID = re.compile(r"<([^<>\s]+@[^<>\s]+)>|([^<>\s]+@[^<>\s]+)")
#: Real headers are a few KB; parsing time grows fast with size (a 600 KB References
#: header takes seconds), so larger blocks are kept as unprocessable instead.
MAX_HEADER_BYTES = 256 * 1024
AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)


#: MIME headers whose parsed form is worth remembering: the same few values
#: ("text/plain; charset=utf-8", "attachment; filename=…") come back in every mail, and
#: the parser reads Content-Type several times per part.
_CACHED_HEADERS = frozenset(("content-type", "content-disposition", "content-transfer-encoding"))


@functools.lru_cache(maxsize=2048)
def _parsed_mime_header(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


class _Policy(EmailPolicy):
    """``email.policy.default``, with MIME header objects (immutable) parsed once."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if isinstance(value, str) and len(value) < 1000 and name.lower() in _CACHED_HEADERS:
            return _parsed_mime_header(name, value)
        return super().header_fetch_parse(name, value)


POLICY = _Policy()


class Unparseable(ValueError):
    """The bytes are not an email message."""


@dataclass
class Part:
    filename: str
    content_type: str
    payload: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str  # without angle brackets; synthesised from the content when missing
    message_id_synthesised: bool
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    reply_to: list[str]
    delivered_to: list[str]
    date: dt.datetime | None
    text: str
    html: str
    attachments: list[Part] = field(default_factory=list)
    content_language: str = ""
    automatic: str = ""  # why the mail was sent by a machine, if it was
    is_bounce: bool = False
    defects: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def parse(raw: bytes) -> ParsedMail:
    if not raw.strip():
        raise Unparseable("empty message")
    head = raw[:65536]
    if b":" not in head.split(b"\n\n", 1)[0] and b":" not in head.split(b"\r\n\r\n", 1)[0]:
        raise Unparseable("no header block")
    header_end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=-1)
    if header_end > MAX_HEADER_BYTES or (header_end < 0 and len(raw) > MAX_HEADER_BYTES):
        raise Unparseable(f"the header block is larger than {MAX_HEADER_BYTES // 1024} KB")
    try:
        message = email.message_from_bytes(raw, policy=POLICY)
    except RecursionError:
        raise Unparseable("MIME parts nested too deeply") from None
    assert isinstance(message, EmailMessage)  # noqa: S101 - policy.default builds these
    defects = [type(d).__name__ for d in message.defects]
    from_name, from_address = _first_address(message, "from", defects)
    if not from_address:
        from_name, from_address = _first_address(message, "sender", defects)
    message_ids = _ids(_header(message, "message-id", defects))
    synthesised = not message_ids
    message_id = message_ids[0] if message_ids else _synthesised_id(raw)
    text, html, parts = _bodies(message, defects)
    automatic = automatic_reason(message, from_address)
    content_type = message.get_content_type()
    is_bounce = content_type == "multipart/report" and (
        message.get_param("report-type", "", header="content-type") == "delivery-status"
    )
    return ParsedMail(
        message_id=message_id,
        message_id_synthesised=synthesised,
        in_reply_to=_ids(_header(message, "in-reply-to", defects)),
        references=_ids(_header(message, "references", defects)),
        subject=_clean_header(_header(message, "subject", defects)),
        from_name=from_name,
        from_address=from_address,
        to=_addresses(message, "to", defects),
        cc=_addresses(message, "cc", defects),
        reply_to=_addresses(message, "reply-to", defects),
        delivered_to=_addresses(message, "delivered-to", defects)
        + _addresses(message, "x-original-to", defects),
        date=_date(_header(message, "date", defects), defects),
        text=text,
        html=html,
        attachments=parts,
        content_language=_header(message, "content-language", defects).split(",")[0].strip(),
        automatic=automatic,
        is_bounce=is_bounce,
        defects=defects,
        headers={
            name: value
            for name in ("subject", "from", "to", "cc", "date", "message-id", "in-reply-to")
            if (value := _header(message, name, defects))
        },
    )


# --- Headers -------------------------------------------------------------------------------


def _raw_values(message: Message, name: str) -> list[str]:
    """The header's values as sent, with raw 8-bit bytes turned into text."""
    wanted = name.lower()
    values = []
    for key, value in message.raw_items():
        if key.lower() == wanted:
            text = value if isinstance(value, str) else str(value)
            values.append(_unescape(text).replace("\r", "").replace("\n", " "))
    return values


def _decoded(name: str, value: str, defects: list[str]) -> str:
    """One header value with encoded words decoded (never raising)."""
    if "=?" not in value:  # nothing to decode: the header parser would only copy it
        return value
    try:
        return str(policy.default.header_factory(name, value))
    except Exception as exc:
        defects.append(f"{name}: {type(exc).__name__}")
        return value


def _header(message: Message, name: str, defects: list[str]) -> str:
    """The first ``name`` header, decoded; each header is decoded once per message."""
    cache: dict[str, str] = message.__dict__.setdefault("_quietdesk_headers", {})
    if name not in cache:
        values = _raw_values(message, name)
        cache[name] = _decoded(name, values[0], defects) if values else ""
    return cache[name]


def _clean_header(value: str) -> str:
    return " ".join(_unescape(value).replace("\x00", "").split())[:1000]


def _unescape(value: str) -> str:
    """Raw 8-bit bytes in a header (kept by the parser as surrogates) as real text."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", "replace")


def _ids(value: str) -> list[str]:
    found = []
    for bracketed, bare in MESSAGE_ID.findall(value):
        mid = (bracketed or bare).strip().strip(".,;").lower()
        if mid and mid not in found and len(mid) <= 250:
            found.append(mid)
    return found


def _synthesised_id(raw: bytes) -> str:
    return f"sha256-{hashlib.sha256(raw).hexdigest()[:40]}@missing-message-id.quietdesk"


def _first_address(message: Message, name: str, defects: list[str]) -> tuple[str, str]:
    pairs = _pairs(message, name, defects)
    return pairs[0] if pairs else ("", "")


def _addresses(message: Message, name: str, defects: list[str]) -> list[str]:
    return [address for _name, address in _pairs(message, name, defects)]


def _pairs(message: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    # Split the raw value into addresses first, then decode each display name: a decoded
    # name may hold a comma or a quote, and the structured header parser of
    # email.policy.default costs more than the rest of the parse together.
    pairs = []
    for value in _raw_values(message, name):
        for display, address in email.utils.getaddresses([value]):
            address = address.strip().lower()
            if "@" in address and " " not in address and len(address) <= 254:
                if "=?" in display:
                    display = _decoded("subject", display, defects)
                pairs.append((_clean_header(display), address))
    return pairs


def _date(value: str, defects: list[str]) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("date: unreadable")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)  # RFC 5322: "-0000" means unknown zone
    if (
        not dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
        <= parsed
        < dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    ):
        defects.append("date: out of range")
        return None
    return parsed


def automatic_reason(message: Message, from_address: str) -> str:
    """Why this mail was sent by a machine (so that we never answer it), or ''."""
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    auto = str(message.get("auto-submitted", "") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("precedence", "") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if message.get("x-auto-response-suppress") is not None:
        return "X-Auto-Response-Suppress"
    if message.get("list-id") is not None or message.get("list-unsubscribe") is not None:
        return "mailing list"
    if message.get("x-autoreply") is not None or message.get("x-autorespond") is not None:
        return "X-Autoreply"
    return_path = message.get("return-path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "empty Return-Path"
    if AUTOMATIC_SENDERS.match(from_address or ""):
        return f"sender {from_address.split('@')[0]}"
    return ""


# --- Bodies ----------------------------------------------------------------------------------


def _bodies(message: EmailMessage, defects: list[str]) -> tuple[str, str, list[Part]]:
    texts: list[str] = []
    htmls: list[str] = []
    parts: list[Part] = []
    _walk(message, texts, htmls, parts, defects, depth=0)
    return "\n\n".join(t for t in texts if t.strip()), "\n".join(htmls), parts


def _walk(
    part: Message,
    texts: list[str],
    htmls: list[str],
    parts: list[Part],
    defects: list[str],
    *,
    depth: int,
) -> None:
    if depth > 20:
        defects.append("MIME nesting deeper than 20 levels")
        return
    content_type = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    if content_type == "message/rfc822":
        # A forwarded mail: kept whole as an attachment, not read as this mail's text.
        inner = part.get_payload()
        try:
            first = inner[0] if isinstance(inner, list) and inner else None
            payload = first.as_bytes() if isinstance(first, Message) else b""
        except Exception as exc:
            defects.append(f"message/rfc822: {type(exc).__name__}")
            payload = b""
        parts.append(Part(filename or "message.eml", "message/rfc822", payload))
        return
    if part.is_multipart():
        children = part.get_payload()
        if not isinstance(children, list):
            defects.append(f"{content_type} without parts")
            return
        if content_type == "multipart/alternative":
            _alternative(children, texts, htmls, parts, defects, depth)
            return
        for child in children:
            if isinstance(child, Message):
                _walk(child, texts, htmls, parts, defects, depth=depth + 1)
        return
    payload = _payload_bytes(part, defects)
    is_body = disposition != "attachment" and not filename
    if is_body and content_type == "text/plain":
        texts.append(_decode_text(part, payload, defects))
        return
    if is_body and content_type == "text/html":
        htmls.append(_decode_text(part, payload, defects))
        return
    content_id = str(part.get("content-id", "") or "").strip().strip("<>")
    parts.append(
        Part(
            filename=filename or _default_name(content_type),
            content_type=content_type,
            payload=payload,
            content_id=content_id[:200],
            inline=disposition == "inline" or (bool(content_id) and disposition != "attachment"),
        )
    )


def _alternative(
    children: list[Any],
    texts: list[str],
    htmls: list[str],
    parts: list[Part],
    defects: list[str],
    depth: int,
) -> None:
    """Keep the plain and the HTML version of the same content (not both as bodies twice)."""
    plain: list[str] = []
    rich: list[str] = []
    for child in children:
        if child.get_content_type() == "text/plain" and not child.is_multipart():
            plain.append(_decode_text(child, _payload_bytes(child, defects), defects))
        elif child.get_content_type() == "text/html" and not child.is_multipart():
            rich.append(_decode_text(child, _payload_bytes(child, defects), defects))
        else:  # multipart/related holding the HTML and its images, a calendar, …
            sub_texts: list[str] = []
            _walk(child, sub_texts, rich, parts, defects, depth=depth + 1)
            plain.extend(sub_texts)
    texts.extend(plain[:1])
    htmls.extend(rich[-1:])


def _payload_bytes(part: Message, defects: list[str]) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        defects.append(f"payload: {type(exc).__name__}")
        payload = None
    if payload is None:
        raw = part.get_payload()
        return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    return bytes(payload) if not isinstance(payload, bytes) else payload


def _decode_text(part: Message, payload: bytes, defects: list[str]) -> str:
    declared = (part.get_content_charset() or "").lower()
    charset = CHARSET_ALIASES.get(declared, declared) or "utf-8"
    # UTF-8 first when the label is missing or wrong: it fails loudly on other encodings.
    for candidate in dict.fromkeys(
        ["utf-8", charset] if declared in ("", *CHARSET_ALIASES) else [charset, "utf-8"]
    ):
        try:
            return payload.decode(candidate).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            continue
    defects.append(f"charset {declared or 'missing'}: decoded as windows-1252")
    return payload.decode("windows-1252", "replace").replace("\x00", "")


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    return _clean_header(str(name))[:255]


def _default_name(content_type: str) -> str:
    extension = {
        "text/calendar": "invite.ics",
        "application/ms-tnef": "winmail.dat",
        "application/pkcs7-signature": "smime.p7s",
        "application/pgp-signature": "signature.asc",
        "image/png": "image.png",
        "image/jpeg": "image.jpg",
        "image/gif": "image.gif",
        "text/plain": "text.txt",
        "text/html": "page.html",
    }
    return extension.get(content_type, "attachment.bin")


# --- Quoted history -----------------------------------------------------------------------

QUOTE_HEADERS = re.compile(
    r"^\s*(On .{3,200} wrote:|Le .{3,200} a écrit\s?:|-{2,}\s*Original Message\s*-{2,}|"
    r"-{2,}\s*Message d'origine\s*-{2,}|From: .+|De\s?: .+|_{10,})\s*$",
    re.MULTILINE,
)


def split_quoted(text: str) -> tuple[str, str]:
    """The new text of a reply and the quoted history below it (both kept)."""
    text = text.replace("\r\n", "\n")
    match = QUOTE_HEADERS.search(text)
    cut = match.start() if match else len(text)
    lines = text[:cut].splitlines()
    # Trailing "> " lines belong to the history too.
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    new = "\n".join(lines).rstrip()
    if not new:
        return text.strip(), ""
    return new, text[len("\n".join(lines)) :].strip()
