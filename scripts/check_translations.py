"""Fail when the French catalogue is behind the code.

1. `makemessages` on the tree must add no msgid the committed catalogue lacks;
2. the catalogue has no untranslated and no fuzzy entry;
3. the committed .mo is exactly what msgfmt compiles from the committed .po;
4. no module imports a translation function under a name `makemessages` does not know
   (``gettext_lazy as _lazy`` would hide every string marked with it).

Needs GNU gettext (xgettext, msgfmt, msgattrib); with CI=true a missing tool fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "quietdesk"
LOCALE = PACKAGE / "locale"
LANGUAGES = ["fr"]
#: Each catalogue and what its makemessages run adds: Python and templates (django), and
#: the site's own script, not the vendored htmx (djangojs, served by /jsi18n/).
DOMAINS = {"django": [], "djangojs": ["--ignore", "*/vendor/*"]}


def msgids(po_text: str) -> set[str]:
    ids = set()
    for block in po_text.split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.MULTILINE)
        if match:
            ids.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1))))
    ids.discard("")
    return ids


# Names xgettext extracts, as Django's makemessages configures it.
KNOWN_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
ALIAS = re.compile(r"\b(\w*gettext\w*) as (\w+)")


def hidden_aliases() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "django.utils.translation import" not in line and " as " not in line:
                continue
            for function, alias in ALIAS.findall(line):
                if alias not in KNOWN_NAMES:
                    found.append(
                        f"{path.relative_to(ROOT)}:{number}: {function} as {alias} hides its "
                        "strings from makemessages; use _ or the function's own name"
                    )
    return found


def run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def check(language: str, domain: str, extra: list[str]) -> list[str]:
    """The problems of one catalogue: missing strings, stale .mo, untranslated, fuzzy."""
    problems: list[str] = []
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    mo = po.with_suffix(".mo")
    committed = po.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "quietdesk"
        shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "DJANGO_SETTINGS_MODULE": "quietdesk.settings",
        }
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "django-admin"),
                "makemessages",
                "-l",
                language,
                "-d",
                domain,
                *extra,
                "--no-location",
                "--ignore",
                "*/migrations/*",
            ],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        regenerated = (copy / "locale" / language / "LC_MESSAGES" / f"{domain}.po").read_text(
            encoding="utf-8"
        )
        new = sorted(msgids(regenerated) - msgids(committed))
        if new:
            problems.append(
                f"{language}: {len(new)} string(s) in the code are missing from "
                f"{po.relative_to(ROOT)}: " + "; ".join(repr(s) for s in new[:10])
            )
        compiled = Path(tmp) / f"{domain}.mo"
        run("msgfmt", "--check", "-o", str(compiled), str(po))
        if not mo.exists() or compiled.read_bytes() != mo.read_bytes():
            problems.append(
                f"{language}: {mo.relative_to(ROOT)} is stale: run "
                f"`msgfmt -o {mo.relative_to(ROOT)} {po.relative_to(ROOT)}`"
            )
    untranslated = msgids(run("msgattrib", "--untranslated", str(po)))
    fuzzy = msgids(run("msgattrib", "--only-fuzzy", str(po)))
    if untranslated:
        problems.append(
            f"{language}: {len(untranslated)} untranslated: "
            + "; ".join(repr(s) for s in sorted(untranslated)[:10])
        )
    if fuzzy:
        problems.append(
            f"{language}: {len(fuzzy)} fuzzy: " + "; ".join(repr(s) for s in sorted(fuzzy)[:10])
        )
    return problems


def main() -> int:
    missing = [t for t in ("xgettext", "msgfmt", "msgattrib") if shutil.which(t) is None]
    if missing:
        message = f"GNU gettext is missing ({', '.join(missing)}): apt-get install gettext"
        if os.environ.get("CI", "").lower() == "true":
            print(message, file=sys.stderr)
            return 1
        print(f"SKIPPED the translation check: {message}")
        return 0
    problems: list[str] = hidden_aliases()
    for language in LANGUAGES:
        for domain, extra in DOMAINS.items():
            problems += check(language, domain, extra)
    if problems:
        print("Translation catalogue check failed (see docs/translating.md):", file=sys.stderr)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        return 1
    print(f"Translations complete for {', '.join(LANGUAGES)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
