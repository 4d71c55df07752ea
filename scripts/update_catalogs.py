"""Merge hub/translations/messages.pot into every catalog, keeping them free of source locations (`pybabel
update` has no option for that, and locations would make every edit of a template a diff in four catalogs).
New strings arrive untranslated; tests/web/test_i18n.py then names each one the Chinese catalog lacks."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1] / "hub" / "translations"


def main() -> None:
    with (ROOT / "messages.pot").open("rb") as f:
        template = read_po(f)
    for po in sorted(ROOT.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        catalog.update(template, no_fuzzy_matching=True)
        with po.open("wb") as f:
            write_po(f, catalog, width=120, no_location=True, omit_header=False, sort_output=True,
                     ignore_obsolete=True)
        missing = sum(1 for m in catalog if m.id and not m.string)
        print(f"{po.relative_to(ROOT)}: {missing} untranslated")


if __name__ == "__main__":
    main()
