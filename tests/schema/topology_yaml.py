"""Reading a topology as an editor does, for schema/topology.schema.json.

The parser (src/config) reads the YAML's text and decides per key what it must be; a schema sees
typed values. They are read here with YAML 1.2's core schema, as yaml-language-server reads them
(and as the schema's top-level $comment says): `-?[0-9]+` (also +, 0o, 0x) an integer, a float
form a number, true/True/TRUE/false/... a boolean, ~/null/Null/NULL/nothing null, the rest text;
no YAML 1.1 yes/no/on/off booleans, octal `012`, sexagesimal numbers, timestamps or `<<` merge
keys, which PyYAML's SafeLoader would apply. Explicit tags (!!binary) are ignored, as libyaml's
reader in the parser ignores them.

What neither an editor nor the parser reads raises Unreadable: YAML errors, duplicate keys (an
editor reports them, and a JSON object cannot hold them), keys that are not scalars, an alias
that holds itself, and more than RDSBK_MAX_YAML_NODES values with every alias expanded.
"""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_NODES = 100000  # RDSBK_MAX_YAML_NODES (include/rdsbk/config.h)


class Unreadable(Exception):
    """The text is no YAML document that a schema could judge."""


_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


def _plain(text):
    """The YAML 1.2 core schema's value of the plain scalar `text`."""
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text[0] in "tT"
    if _INT.match(text):
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)
    if _FLOAT.match(text):
        lower = text.lower()
        if lower.endswith(".inf"):
            return float("-inf" if lower.startswith("-") else "inf")
        return float("nan") if lower == ".nan" else float(text)
    return text


class _Loader(yaml.SafeLoader):
    """PyYAML's reader and composer with the YAML 1.2 core schema's typing."""

    def construct_object(self, node, deep=False):
        if isinstance(node, yaml.ScalarNode):
            return _plain(node.value) if node.style is None else node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.construct_object(n, deep) for n in node.value]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        raise Unreadable("unknown node %r" % node)

    def _mapping(self, node):
        out = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise Unreadable("line %d: a key that is not a scalar" % (key.start_mark.line + 1))
            if key.value in out:
                raise Unreadable("line %d: duplicate key %r" % (key.start_mark.line + 1,
                                                                key.value))
            out[key.value] = self.construct_object(value)
        return out


def _count(node, stack, budget):
    """Values under `node` with aliases expanded; raises Unreadable for a cycle or too many."""
    if id(node) in stack:
        raise Unreadable("an alias holds itself")
    budget[0] -= 1
    if budget[0] < 0:
        raise Unreadable("more than %d values with aliases expanded" % MAX_NODES)
    children = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    stack.add(id(node))
    for child in children:
        _count(child, stack, budget)
    stack.discard(id(node))


def load(text):
    """The first document of `text` (str or bytes) as JSON-like values; raises Unreadable."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count(node, set(), [MAX_NODES])
        return loader.construct_object(node)
    except yaml.YAMLError as e:
        raise Unreadable("YAML: %s" % str(e).splitlines()[0]) from None
    except RecursionError:
        raise Unreadable("nested too deep") from None
    finally:
        loader.dispose()


def _tag_ranges():
    """The ranges of src/config/tag_chars.c: the code points beyond ASCII AWS allows in tags."""
    with open(os.path.join(ROOT, "src", "config", "tag_chars.c"), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("s_ranges[] = {"):text.index("};", text.index("s_ranges[] = {"))]
    return [(int(a, 16), int(b, 16))
            for a, b in re.findall(r"\{0x([0-9A-Fa-f]+), 0x([0-9A-Fa-f]+)\}", table)]


def _class_char(cp):
    """Code point `cp` in a character class that both Python's re and ECMAScript (with the u
    flag, as editors compile schema patterns) read alike: \\uXXXX for the BMP, the character
    itself beyond it (neither has a common escape for those)."""
    return "\\u%04X" % cp if cp <= 0xFFFF else chr(cp)


def tag_pattern():
    """AWS's tag pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$ with \\p{...} spelt out as the
    parser's ranges (rdsbk_tag_char): what the schema's $defs/tagText must hold."""
    parts = ["A-Za-z0-9 _.:/=+@\\-"]
    for first, last in _tag_ranges():
        parts.append(_class_char(first) if first == last
                     else _class_char(first) + "-" + _class_char(last))
    return "^[" + "".join(parts) + "]*$"
