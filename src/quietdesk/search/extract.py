"""Reading the text of attachments: plain text, HTML and PDF.

Runs in a background task (:mod:`quietdesk.search.tasks`): a PDF of a few hundred
pages takes seconds, which no request should wait for.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from quietdesk.search.models import ExtractionStatus
from quietdesk.text import clean_body
from quietdesk.tickets.files import open_blob
from quietdesk.tickets.html import html_to_text
from quietdesk.tickets.models import Attachment

logger = logging.getLogger(__name__)

#: Larger files are not read (their name is still searchable).
MAX_FILE_BYTES = 25 * 1024 * 1024
#: Text kept from one attachment.
MAX_TEXT_CHARS = 1_000_000
MAX_PDF_PAGES = 500

TEXT_TYPES = ("text/plain", "text/csv", "text/markdown", "text/calendar", "message/rfc822")
HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPES = ("application/pdf",)
_EXTENSIONS = {
    ".txt": "text/plain",
    ".csv": "text/plain",
    ".log": "text/plain",
    ".md": "text/plain",
    ".eml": "text/plain",
    ".htm": "text/html",
    ".html": "text/html",
    ".pdf": "application/pdf",
}


@dataclass(frozen=True)
class Extracted:
    text: str
    status: str
    detail: str = ""


def kind_of(attachment: Attachment) -> str | None:
    """ "text", "html", "pdf" or None (not a format we read)."""
    content_type = attachment.content_type.split(";")[0].strip().lower()
    if content_type in ("application/octet-stream", ""):
        name = attachment.filename.lower()
        content_type = next((t for ext, t in _EXTENSIONS.items() if name.endswith(ext)), "")
    if content_type in HTML_TYPES:
        return "html"
    if content_type in PDF_TYPES:
        return "pdf"
    if content_type in TEXT_TYPES or content_type.startswith("text/"):
        return "text"
    return None


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = []
    total = 0
    for page in reader.pages[:MAX_PDF_PAGES]:
        text = page.extract_text() or ""
        pages.append(text)
        total += len(text)
        if total > MAX_TEXT_CHARS:
            break
    return "\n\n".join(pages)


def extract(attachment: Attachment) -> Extracted:
    kind = kind_of(attachment)
    if kind is None:
        return Extracted("", ExtractionStatus.UNSUPPORTED)
    if attachment.size > MAX_FILE_BYTES:
        return Extracted("", ExtractionStatus.UNSUPPORTED, "too large")
    try:
        with open_blob(attachment.blob) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if kind == "pdf":
            text = _pdf_text(data)
        elif kind == "html":
            text = html_to_text(_decode(data))
        else:
            text = _decode(data)
    except Exception as exc:  # a broken file must not stop the queue
        logger.info("Could not read attachment %s: %s", attachment.pk, exc)
        return Extracted("", ExtractionStatus.FAILED, str(exc)[:300])
    return Extracted(clean_body(text)[:MAX_TEXT_CHARS], ExtractionStatus.DONE)
