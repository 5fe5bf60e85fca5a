"""Text as the full-text index sees it.

SQLite's ``unicode61`` tokenizer splits on spaces and punctuation, so a run of Japanese or Chinese text with no spaces is
one token and a word inside it cannot be found. We index such runs as overlapping character bigrams (the approach of
Lucene's CJK analyzer) and turn a query word into the phrase of its bigrams, so ``構造計算書`` is found inside
``構造計算書の送付について``. Text outside CJK runs passes through unchanged.
"""
from __future__ import annotations

import re

# Hiragana, Katakana, CJK ideographs (incl. extension A and compatibility), half-width Katakana.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]+")


def _bigrams(run: str) -> str:
    if len(run) < 2:
        return run
    return " ".join(run[i:i + 2] for i in range(len(run) - 1))


def index_text(text: str | None) -> str:
    """What to store in an FTS column for ``text``."""
    if not text:
        return ""
    return _CJK_RUN.sub(lambda m: f" {_bigrams(m.group())} ", text)


def phrase(term: str) -> str:
    """An FTS5 expression matching ``term`` literally (operators and quotes in it are not syntax)."""
    if _CJK_RUN.fullmatch(term) and len(term) == 1:
        # One ideograph: any bigram starting with it (a prefix query), or the character standing alone.
        return f'("{term}" OR "{term}"*)'
    return '"' + index_text(term).replace('"', '""').strip() + '"'


def split_query(text: str) -> list[str]:
    """Words and "quoted phrases" of a user's query, in order; an unbalanced quote runs to the end."""
    out: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            if not quoted and buf:
                out.append("".join(buf))
                buf = []
        elif ch.isspace() and not quoted:
            if buf:
                out.append("".join(buf))
                buf = []
        else:
            buf.append(ch)
    if buf:
        out.append("".join(buf))
    return [t for t in out if t.strip()]


def principal_token(principal_id: int) -> str:
    """What ``messages_fts.principal`` holds for a principal's messages ('p' || id, as the migration that added it)."""
    return f"p{principal_id}"
