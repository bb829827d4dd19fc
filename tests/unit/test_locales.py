"""The dashboard's locale files (chalicelib/frontend/ui/i18n_<lang>.js) say the same things.

Each is `export default { 'key': 'value', ... };`: an object literal of string keys and string values.
A small reader below parses exactly that (quoted strings with escapes, comments, a trailing comma) and
refuses anything else, so no JS parser is needed. The checks: every locale has the same keys, and each
key has the same `{placeholders}` in every locale (i18n.js's t() fills them by name).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "chalicelib" / "frontend" / "ui"
LOCALES = ("pt-BR", "en")  # i18n.js's LANGS
PLACEHOLDER = re.compile(r"\{(\w+)\}")  # what i18n.js's t() replaces
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class LocaleSyntaxError(ValueError):
    pass


class _Reader:
    """Reads `export default {...};` of string keys and string values, nothing else."""

    def __init__(self, text: str, name: str) -> None:
        self.text, self.name, self.pos = text, name, 0

    def fail(self, what: str) -> LocaleSyntaxError:
        line = self.text.count("\n", 0, self.pos) + 1
        return LocaleSyntaxError(f"{self.name}:{line}: {what}")

    def skip(self) -> None:
        """Whitespace and comments."""
        while self.pos < len(self.text):
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unclosed comment")
                self.pos = end + 2
            else:
                return

    def expect(self, token: str) -> None:
        self.skip()
        if not self.text.startswith(token, self.pos):
            raise self.fail(f"expected {token!r}, found {self.text[self.pos : self.pos + 20]!r}")
        self.pos += len(token)

    def at(self, token: str) -> bool:
        self.skip()
        return self.text.startswith(token, self.pos)

    def string(self) -> str:
        self.skip()
        quote = self.text[self.pos : self.pos + 1]
        if quote not in ("'", '"'):
            raise self.fail(f"expected a quoted string, found {self.text[self.pos : self.pos + 20]!r}")
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text) or self.text[self.pos] == "\n":
                raise self.fail("unterminated string")
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char != "\\":
                out.append(char)
                continue
            escaped = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if escaped == "u":
                digits = self.text[self.pos : self.pos + 4]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                    raise self.fail("bad \\u escape")
                out.append(chr(int(digits, 16)))
                self.pos += 4
            elif escaped in ESCAPES:
                out.append(ESCAPES[escaped])
            elif escaped in ("\\", "'", '"'):
                out.append(escaped)
            else:
                raise self.fail(f"unsupported escape \\{escaped}")

    def document(self) -> dict[str, str]:
        self.expect("export")
        self.expect("default")
        self.expect("{")
        entries: dict[str, str] = {}
        while not self.at("}"):
            key = self.string()
            self.expect(":")
            value = self.string()
            if key in entries:
                raise self.fail(f"duplicate key {key!r}")
            entries[key] = value
            if not self.at(","):
                break
            self.expect(",")
        self.expect("}")
        self.expect(";")
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("text after the object")
        return entries


def read_locale(path: Path) -> dict[str, str]:
    return _Reader(path.read_text(encoding="utf-8"), path.name).document()


def locale_problems(dicts: dict[str, dict[str, str]]) -> list[str]:
    """What differs between the locales: missing keys, and placeholders that are not the same."""
    problems: list[str] = []
    every = set().union(*dicts.values())
    for lang, entries in dicts.items():
        problems += [f"{lang} lacks {key!r}" for key in sorted(every - set(entries))]
    for key in sorted(every):
        found = {lang: sorted(set(PLACEHOLDER.findall(e[key]))) for lang, e in dicts.items() if key in e}
        if len({tuple(names) for names in found.values()}) > 1:
            problems.append(f"{key!r} has different placeholders: {found}")
    return problems


def read_all(folder: Path) -> dict[str, dict[str, str]]:
    return {lang: read_locale(folder / f"i18n_{lang}.js") for lang in LOCALES}


def test_every_locale_has_the_same_keys_and_placeholders() -> None:
    dicts = read_all(UI)
    assert all(len(entries) > 100 for entries in dicts.values()), {k: len(v) for k, v in dicts.items()}
    assert locale_problems(dicts) == []


def test_i18n_loads_each_locale_file() -> None:
    source = (UI / "i18n.js").read_text(encoding="utf-8")
    for lang in LOCALES:
        assert f"from './i18n_{lang}.js';" in source


def _copy(tmp_path: Path, edit: dict[str, tuple[str, str]]) -> Path:
    """The real locale files in tmp_path, one replacement made in the ones named in `edit`."""
    for lang in LOCALES:
        text = (UI / f"i18n_{lang}.js").read_text(encoding="utf-8")
        if lang in edit:
            old, new = edit[lang]
            assert old in text
            text = text.replace(old, new, 1)
        (tmp_path / f"i18n_{lang}.js").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_missing_key_is_found(tmp_path: Path) -> None:
    folder = _copy(tmp_path, {"en": ("  'queue.title': 'Queue',\n", "")})
    assert locale_problems(read_all(folder)) == ["en lacks 'queue.title'"]


def test_a_renamed_placeholder_is_found(tmp_path: Path) -> None:
    folder = _copy(tmp_path, {"pt-BR": ("{message}", "{mensagem}")})
    problems = locale_problems(read_all(folder))
    assert len(problems) == 1 and "'common.error' has different placeholders" in problems[0]


@pytest.mark.parametrize(
    "old, new",
    [
        ("'app.name': 'sitegen',", "'app.name': sitegen,"),  # not a string
        ("'app.name': 'sitegen',", "'app.name': 'sitegen'"),  # a missing comma
        ("'app.name': 'sitegen',", "'app.name': 'sitegen', 'app.name': 'again',"),  # a duplicate key
        ("\n};\n", "\n}\n"),  # no semicolon
    ],
)
def test_the_reader_refuses_what_is_not_a_plain_object(tmp_path: Path, old: str, new: str) -> None:
    folder = _copy(tmp_path, {"en": (old, new)})
    with pytest.raises(LocaleSyntaxError):
        read_all(folder)


def test_the_reader_reads_escapes_and_comments() -> None:
    text = "// head\nexport default {\n  /* c */ 'a': 'it\\'s \\u00e9',\n  \"b\": \"x\\n\", // tail\n};\n"
    assert _Reader(text, "t.js").document() == {"a": "it's é", "b": "x\n"}
