"""Set translations in a catalogue and clear their fuzzy flags.

    python scripts/po_set.py fr translations.json            # django.po
    python scripts/po_set.py fr translations.json djangojs   # djangojs.po (quietdesk.js)

``translations.json`` maps each msgid to its msgstr (a list of forms for a msgid with
a plural). Entries are matched by msgid; the
previous-msgid comments (``#|``) and the fuzzy flag of a matched entry are removed. Run
``msgfmt`` afterwards (see docs/translating.md).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "src" / "quietdesk" / "locale"
MSGID = re.compile(r'^msgid ((?:".*"\n?)+)', re.MULTILINE)
PART = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unquote(raw: str) -> str:
    return "".join(PART.findall(raw)).replace('\\"', '"').replace("\\n", "\n")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def apply(po_text: str, translations: dict[str, str]) -> tuple[str, set[str]]:
    done: set[str] = set()
    blocks = po_text.split("\n\n")
    for index, block in enumerate(blocks):
        match = MSGID.search(block)
        if not match or unquote(match.group(1)) not in translations:
            continue
        msgid = unquote(match.group(1))
        lines = [line for line in block.split("\n") if not line.startswith("#|")]
        kept = []
        for line in lines:
            if line.startswith("#,"):
                flags = [f.strip() for f in line[2:].split(",") if f.strip() != "fuzzy"]
                if not flags:
                    continue
                line = "#, " + ", ".join(flags)
            if line.startswith("msgstr"):
                break
            kept.append(line)
        value = translations[msgid]
        if isinstance(value, list):  # plural forms: msgstr[0], msgstr[1], ...
            strings = [f"msgstr[{n}] " + quote(form) for n, form in enumerate(value)]
        else:
            strings = ["msgstr " + quote(value)]
        blocks[index] = "\n".join([*kept, *strings])
        done.add(msgid)
    return "\n\n".join(blocks), done


def main() -> int:
    language, source = sys.argv[1], Path(sys.argv[2])
    domain = sys.argv[3] if len(sys.argv) > 3 else "django"
    translations = json.loads(source.read_text(encoding="utf-8"))
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    text, done = apply(po.read_text(encoding="utf-8"), translations)
    po.write_text(text, encoding="utf-8")
    missing = sorted(set(translations) - done)
    for msgid in missing:
        print(f"not in the catalogue: {msgid!r}", file=sys.stderr)
    print(f"{len(done)} entries set in {po}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
