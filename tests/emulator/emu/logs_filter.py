"""CloudWatch Logs filter patterns (FilterLogEvents' filterPattern): the subset the emulator
supports, parsed once and refused whole when it steps outside it (never matching everything
instead).

Public API (pure, no emulator state):
    compile_pattern(text) -> matcher(message) -> bool
        raises PatternError(reason) for a pattern outside the subset; FilterLogEvents answers
        it as InvalidParameterException "Invalid filter pattern".

Supported, as the CloudWatch Logs user guide describes filter pattern syntax ("Matching terms
in unstructured log events", "Matching terms in JSON log events"):
  - empty (or blank): every event matches;
  - terms, case-sensitive, each found anywhere in the message (a substring: ERROR matches
    "ERRORCODE"): a bare word of letters, digits and underscores, or a double-quoted phrase
    (`\\"` and `\\\\` escape inside it); space-separated terms must all appear; `-term`
    excludes events containing it; `?A ?B` matches events containing any of them;
  - JSON patterns `{ ... }` on messages that are JSON objects (any other message never
    matches): selectors `$.a.b`, `$.list[0]`; `=` / `!=` with a string (double-quoted, or a
    bare word of letters, digits and `_ . - : / @ *`; `*` matches any run of characters) or
    a number; `<`, `<=`, `>`, `>=` with a number; `IS TRUE`, `IS FALSE`, `IS NULL`,
    `NOT EXISTS`; `&&` and `||` with parentheses.
Choices where the guide is silent, so that a pattern never means more than it says: a string
comparison matches only string fields and a number comparison only numeric ones (`!=`
included: a missing field or one of another type matches neither `=` nor `!=`); mixing `&&`
and `||` at one level needs parentheses; `?` terms cannot be mixed with plain or `-` terms.
Refused: space-delimited patterns `[...]`, regular expressions `%...%`, bare terms with other
characters than letters, digits and `_`, array wildcards `[*]`, bare `true` / `false` / `null`
values (use IS TRUE / IS FALSE / IS NULL), lower-case keywords.
"""

import json
import re


class PatternError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


_MISSING = object()
_WORD = re.compile(r"[A-Za-z0-9_]+")
_BARE_VALUE = re.compile(r"[A-Za-z0-9_.\-:/@*]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_KEY = re.compile(r"[A-Za-z0-9_\-@]+")
_INDEX = re.compile(r"\[([0-9]+)\]")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")


def compile_pattern(text):
    """The matcher for a filter pattern; raises PatternError outside the supported subset."""
    stripped = (text or "").strip()
    if not stripped:
        return lambda message: True
    if stripped.startswith("{"):
        return _json_matcher(stripped)
    if stripped.startswith("["):
        raise PatternError("space-delimited patterns are not supported")
    return _terms_matcher(stripped)


# -------------------------------------------------------------------------------- quoting

def _quoted(text, i):
    """The string of the double-quoted literal at text[i] and the index after it."""
    out = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '"\\':
                raise PatternError("unsupported escape in a quoted string")
            out.append(text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    raise PatternError("unterminated quoted string")


# --------------------------------------------------------------------------------- terms

def _terms_matcher(text):
    required, excluded, optional = [], [], []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        kind = None
        if text[i] in "?-":
            kind = text[i]
            i += 1
        if i < n and text[i] == '"':
            term, i = _quoted(text, i)
        else:
            m = _WORD.match(text, i)
            if m is None:
                if i < n and text[i] == "%":
                    raise PatternError("regular expressions are not supported")
                raise PatternError("a term with other characters than letters, digits and _ "
                                   "must be quoted")
            term, i = m.group(0), m.end()
        if i < n and not text[i].isspace():
            raise PatternError("a term with other characters than letters, digits and _ must "
                               "be quoted, and terms are separated by spaces")
        {None: required, "-": excluded, "?": optional}[kind].append(term)
    if optional and (required or excluded):
        raise PatternError("?terms cannot be mixed with other terms")
    if optional:
        return lambda message: any(t in message for t in optional)
    return lambda message: (all(t in message for t in required) and
                            not any(t in message for t in excluded))


# ---------------------------------------------------------------------------------- JSON

def _tokens(text):
    """The tokens between a JSON pattern's braces: ("(",), (")",), ("&&",), ("||",),
    ("op", "="), ("sel", [path]), ("str", s), ("word", w)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c,))
            i += 1
        elif text.startswith("&&", i) or text.startswith("||", i):
            out.append((text[i:i + 2],))
            i += 2
        elif c == '"':
            s, i = _quoted(text, i)
            out.append(("str", s))
        elif c == "$":
            path, i = _selector(text, i)
            out.append(("sel", path))
        else:
            for op in _OPERATORS:
                if text.startswith(op, i):
                    out.append(("op", op))
                    i += len(op)
                    break
            else:
                m = _BARE_VALUE.match(text, i)
                if m is None:
                    raise PatternError("unexpected %r" % c)
                out.append(("word", m.group(0)))
                i = m.end()
    return out


def _selector(text, i):
    """`$` then `.key` and `[index]` steps -> (steps, index after)."""
    path = []
    i += 1
    while i < len(text):
        if text[i] == ".":
            m = _KEY.match(text, i + 1)
            if m is None:
                raise PatternError("bad selector")
            path.append(m.group(0))
            i = m.end()
        elif text[i] == "[":
            m = _INDEX.match(text, i)
            if m is None:
                raise PatternError("only numeric array indexes are supported in selectors")
            path.append(int(m.group(1)))
            i = m.end()
        else:
            break
    if not path:
        raise PatternError("a selector names a field: $.name")
    return path, i


def _json_matcher(text):
    if not text.endswith("}"):
        raise PatternError("a JSON pattern ends with }")
    tokens = _tokens(text[1:-1])
    if not tokens:
        raise PatternError("empty JSON pattern")
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.i != len(tokens):
        raise PatternError("unexpected %s" % (tokens[parser.i][-1],))

    def match(message):
        try:
            doc = json.loads(message)
        except ValueError:
            return False
        return isinstance(doc, dict) and tree(doc)
    return match


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _lookup(doc, path):
    for step in path:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return _MISSING
            doc = doc[step]
        else:
            if not isinstance(doc, dict) or step not in doc:
                return _MISSING
            doc = doc[step]
    return doc


def _wildcard(value):
    return re.compile(".*".join(re.escape(part) for part in value.split("*")), re.DOTALL)


class _Parser:
    """expression := term (("&&" | "||") term)*, one operator a level; term := "(" expression
    ")" | comparison. Each node is a function of the parsed document."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.i = 0

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None,)

    def _next(self):
        tok = self._peek()
        if tok[0] is None:
            raise PatternError("the JSON pattern ends too early")
        self.i += 1
        return tok

    def expression(self):
        nodes = [self._term()]
        joiner = None
        while self._peek()[0] in ("&&", "||"):
            op = self._next()[0]
            if joiner is not None and op != joiner:
                raise PatternError("use parentheses to mix && and ||")
            joiner = op
            nodes.append(self._term())
        if len(nodes) == 1:
            return nodes[0]
        if joiner == "&&":
            return lambda doc: all(node(doc) for node in nodes)
        return lambda doc: any(node(doc) for node in nodes)

    def _term(self):
        tok = self._next()
        if tok[0] == "(":
            node = self.expression()
            if self._next()[0] != ")":
                raise PatternError("missing )")
            return node
        if tok[0] != "sel":
            raise PatternError("a comparison starts with a selector ($.name)")
        path = tok[1]
        tok = self._next()
        if tok == ("word", "IS"):
            what = self._next()
            tests = {("word", "TRUE"): lambda v: v is True,
                     ("word", "FALSE"): lambda v: v is False,
                     ("word", "NULL"): lambda v: v is None}
            if what not in tests:
                raise PatternError("IS takes TRUE, FALSE or NULL")
            test = tests[what]
            return lambda doc: test(_lookup(doc, path))
        if tok == ("word", "NOT"):
            if self._next() != ("word", "EXISTS"):
                raise PatternError("NOT takes EXISTS")
            return lambda doc: _lookup(doc, path) is _MISSING
        if tok[0] != "op":
            raise PatternError("a selector is followed by an operator, IS or NOT EXISTS")
        op = tok[1]
        value = self._next()
        if value[0] == "word" and _NUMBER.fullmatch(value[1]):
            return self._number(path, op, float(value[1]))
        if value[0] == "word" and value[1] in ("true", "false", "null", "TRUE", "FALSE",
                                               "NULL"):
            raise PatternError("compare with IS TRUE, IS FALSE or IS NULL")
        if value[0] not in ("str", "word"):
            raise PatternError("an operator is followed by a value")
        if op not in ("=", "!="):
            raise PatternError("%s compares numbers" % op)
        regex = _wildcard(value[1])
        want = op == "="

        def string_test(doc):
            v = _lookup(doc, path)
            return isinstance(v, str) and bool(regex.fullmatch(v)) == want
        return string_test

    @staticmethod
    def _number(path, op, number):
        compare = {"=": lambda v: v == number, "!=": lambda v: v != number,
                   "<": lambda v: v < number, "<=": lambda v: v <= number,
                   ">": lambda v: v > number, ">=": lambda v: v >= number}[op]

        def number_test(doc):
            v = _lookup(doc, path)
            return _is_number(v) and compare(v)
        return number_test
