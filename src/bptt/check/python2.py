"""Learners' Python 2 files (cs231n's 2016 templates): convert what is mechanical, or say how.

The 2016 ``rnn_layers.py`` is Python 2 only in a few places: ``xrange`` and the template's own
``if verbose: print 'dx_flat: ', dx_flat.shape``. ``convert`` rewrites print statements, ``xrange``
and ``except E, e:`` token by token, keeping every line where it was (so the learner's line
numbers still hold), and says what it changed. Anything else that only Python 2 accepts
(``raise E, "message"``, backticks, ``0777``, ``ur""``) is not guessed at: ``check_file`` then
refuses the file in one line that names ``2to3 -w FILE``.
"""

from __future__ import annotations

import io
import re
import token
import tokenize

_STATEMENT_START = {token.NEWLINE, token.NL, token.INDENT, token.DEDENT, token.ENCODING}
# What follows ``print`` when it is Python 3's function or a name, not Python 2's statement.
_NOT_A_STATEMENT = {"(", "=", ".", ",", ")", "[", "]", ":", ";"}
_PY2_HINTS = (
    (re.compile(r"^\s*print\s+[^\s(=.,)\[]", re.M), "a print statement"),
    (re.compile(r"^\s*print\s*$", re.M), "a print statement"),
    (re.compile(r":\s*print\s+['\"]", re.M), "a print statement"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:", re.M), "except E, e:"),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,", re.M), "raise E, message"),
    (re.compile(r"\bxrange\s*\("), "xrange"),
    (re.compile(r"\.iteritems\(\)|\.has_key\("), "dict.iteritems / has_key"),
    (re.compile(r"`[^`\n]+`"), "backticks"),
)


def python2_signs(source: str) -> list:
    """The Python 2 constructs the text shows, by name (empty for Python 3 text)."""
    return sorted({what for pattern, what in _PY2_HINTS if pattern.search(source)})


def convert(source: str) -> tuple[str, list]:
    """(source with print statements, xrange and ``except E, e`` rewritten, what was changed).

    Lines stay where they were. Raises ``tokenize.TokenError`` or ``SyntaxError`` (from
    tokenize) when the text cannot be tokenised; the caller then refuses the file.
    """
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = source.splitlines(keepends=True)
    edits = []          # (row, col, remove_length, insert), applied right to left
    changed = set()
    prev_sig = None     # the last significant token before the current one
    for k, tok in enumerate(tokens):
        if tok.type == token.NAME and tok.string == "xrange":
            edits.append((tok.start[0], tok.start[1], len("xrange"), "range"))
            changed.add("xrange")
        elif tok.type == token.NAME and tok.string == "print" and _starts_statement(prev_sig):
            nxt = _next_significant(tokens, k)
            if nxt is None or nxt.string not in _NOT_A_STATEMENT or nxt.type in (token.NEWLINE, token.ENDMARKER):
                edits.extend(_print_call(tokens, k))
                changed.add("print statements")
        elif tok.type == token.NAME and tok.string == "except" and _starts_statement(prev_sig):
            comma = _except_comma(tokens, k)
            if comma is not None:
                edits.append((comma.start[0], comma.start[1], 1, " as"))
                changed.add("except E, e")
        if tok.type not in (token.COMMENT, token.NL):
            prev_sig = tok
    for row, col, length, insert in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + insert + line[col + length:]
    return "".join(lines), sorted(changed)


def _starts_statement(prev):
    return prev is None or prev.type in _STATEMENT_START or (prev.type == token.OP and prev.string in (":", ";"))


def _next_significant(tokens, k):
    for tok in tokens[k + 1:]:
        if tok.type not in (token.COMMENT, token.NL):
            return tok
    return None


def _print_call(tokens, k):
    """Edits turning ``print a, b`` / ``print >>f, a`` / ``print a,`` into a call, on the same lines."""
    start = tokens[k]
    # the statement's tokens, up to its NEWLINE or a ';' at depth 0
    body = _tokens_until(tokens[k + 1:], lambda tok, depth: tok.type in (token.NEWLINE, token.ENDMARKER)
                         or (tok.string == ";" and depth == 0))
    if not body:                                        # a bare "print": an empty line
        return [(start.start[0], start.start[1], len("print"), "print()")]
    edits, extra = [], []
    toks = [t for t, _ in body]
    if toks[0].string == ">>":                          # print >>f, a, b
        commas = [j for j, (t, d) in enumerate(body) if t.string == "," and d == 0]
        stop = commas[0] if commas else len(toks)
        extra.append("file=" + " ".join(t.string for t in toks[1:stop]))
        cut_to = toks[stop].end if commas else toks[-1].end
        if cut_to[0] != toks[0].start[0]:
            raise SyntaxError("print >> spanning lines")
        edits.append((toks[0].start[0], toks[0].start[1], cut_to[1] - toks[0].start[1], ""))
        toks = toks[stop + 1:] if commas else []
    if toks and toks[-1].string == ",":                 # print a,  (no newline)
        extra.insert(0, "end=' '")
        edits.append((toks[-1].start[0], toks[-1].start[1], 1, ""))
        toks = toks[:-1]
    close = (toks[-1].end if toks else start.end)
    tail = (", " if toks and extra else "") + ", ".join(extra) + ")"
    edits.append((start.end[0], start.end[1], 0, "("))
    edits.append((close[0], close[1], 0, tail))
    return edits


def _except_comma(tokens, k):
    """The comma of ``except E, e:`` (Python 2's binding), not of ``except (A, B):``."""
    parts = _tokens_until(tokens[k + 1:], lambda tok, depth: tok.string == ":" and depth == 0)
    commas = [tok for tok, d in parts if tok.string == "," and d == 0]
    if len(commas) == 1 and parts and parts[-1][0].type == token.NAME:
        return commas[0]
    return None


def _tokens_until(tokens, stop) -> list:
    """[(token, bracket depth)] from the start up to the first token where ``stop(token, depth)``
    holds, comments and line continuations left out."""
    depth, out = 0, []
    for tok in tokens:
        if stop(tok, depth):
            break
        if tok.type == token.OP and tok.string in "([{":
            depth += 1
        elif tok.type == token.OP and tok.string in ")]}":
            depth -= 1
        if tok.type not in (token.COMMENT, token.NL):
            out.append((tok, depth))
    return out
