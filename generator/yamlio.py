"""Strict YAML reading with line marks.

A YAML 1.2-flavoured safe loader: only ``true``/``false`` are booleans (no
``no``/``on``), no sexagesimal or octal numbers, no aliases, no duplicate keys,
no explicit tags (``!!int 0755`` would bring YAML 1.1's octal back), bounded nesting.
Mappings and lists remember the line of every entry so errors can name it.

Events come from libyaml's C parser when PyYAML has it (about four times faster); any text
libyaml might read differently, and every error, is read again by the pure-Python
reader, whose values, marks and messages are the reference.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import ClassVar

import yaml

MAX_FRONT_MATTER = 64 * 1024
MAX_DEPTH = 32   # front-matter is a few flat keys; deeper nesting only exhausts the recursive composer


class YamlError(Exception):
    """A YAML document that cannot be read; carries a 1-based line and column."""

    def __init__(self, message: str, line: int, column: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint


class Float(float):
    """A float that prints as it was written (``89.90``, ``1.0e999``), so messages quote the source."""

    text: str = ""

    def __repr__(self) -> str:
        return self.text or float.__repr__(self)

    __str__ = __repr__


class LineDict(dict):
    """A mapping that knows the (line, column) of each key, 1-based."""

    line: int = 1
    column: int = 1

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[object, tuple[int, int]] = {}

    def where(self, key: object) -> tuple[int, int]:
        return self.lines.get(key, (self.line, self.column))


class LineList(list):
    """A list that knows the (line, column) of each item, 1-based."""

    line: int = 1
    column: int = 1

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.lines: list[tuple[int, int]] = []

    def where(self, index: int) -> tuple[int, int]:
        return self.lines[index] if index < len(self.lines) else (self.line, self.column)


class _Strict:
    """The strict composing and constructing shared by the pure-Python and the libyaml loader."""

    yaml_implicit_resolvers: ClassVar[dict] = {}
    line_offset: int
    depth = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlError("YAML aliases (*name) are not allowed", *self._place(event.start_mark),
                            hint="write the value out in full")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise YamlError("YAML anchors (&name) are not allowed", *self._place(event.start_mark),
                            hint="write the value out in full")
        if getattr(event, "tag", None) not in (None, "!"):
            shown = event.tag.replace("tag:yaml.org,2002:", "!!")
            raise YamlError(f"YAML tags ({shown}) are not allowed", *self._place(event.start_mark),
                            hint="remove the tag; quote the value if it must stay text")
        if self.depth >= MAX_DEPTH:
            raise YamlError(f"YAML is nested more than {MAX_DEPTH} levels deep", *self._place(event.start_mark),
                            hint="front-matter keys hold plain values, short lists or small mappings")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node, deep=False):  # type: ignore[override]
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:  # 2026-13-45, a 5,000-digit number: name its line
            raise YamlError(f"YAML: {exc}", *self._place(node.start_mark)) from None
        except AttributeError:  # our timestamp pattern is looser than PyYAML's constructor (10:00:00...)
            raise YamlError(f"YAML: {node.value!r} is not a valid date or time", *self._place(node.start_mark),
                            hint='write a date as 2026-05-01, or quote the value to keep it as text') from None

    def _place(self, mark: yaml.Mark) -> tuple[int, int]:
        return mark.line + 1 + self.line_offset, mark.column + 1

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        result = LineDict()
        result.line, result.column = self._place(node.start_mark)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise YamlError(f"keys must be plain strings, not {key!r}", *self._place(key_node.start_mark),
                                hint="quote the key")
            if key in result:
                line, _ = result.lines[key]
                raise YamlError(f"duplicate key '{key}' (first on line {line})",
                                *self._place(key_node.start_mark), hint="remove one of them")
            result[key] = self.construct_object(value_node, deep=True)
            result.lines[key] = self._place(key_node.start_mark)
        return result

    def construct_sequence(self, node, deep=False):  # type: ignore[override]
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.lines = [self._place(child.start_mark) for child in node.value]
        result.line, result.column = self._place(node.start_mark)
        return result


class _StrictLoader(_Strict, yaml.SafeLoader):
    def __init__(self, stream: str, line_offset: int) -> None:
        super().__init__(stream)
        self.line_offset = line_offset


def _construct_float(loader: _StrictLoader, node):
    value = Float(loader.construct_yaml_float(node))
    value.text = node.value
    return value


def _construct_map(loader: _StrictLoader, node):
    return loader.construct_mapping(node)


def _construct_seq(loader: _StrictLoader, node):
    return loader.construct_sequence(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_StrictLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                    list("-+0123456789"))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float",
                                    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
                                    list("-+0123456789."))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                    ["~", "n", "N", ""])
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:timestamp",
                                    re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9:.]+(?:Z|[-+][0-9:]+)?)?$"),
                                    list("0123456789"))

_CParser = yaml.cyaml.CParser if yaml.__with_libyaml__ else None


class _NotFast(Exception):
    """The text holds something libyaml reads differently from the pure reader."""


# What libyaml may read differently from the pure scanner: characters the pure Reader refuses
# (libyaml may read past them), BOMs (libyaml skips one at the start of any line, the pure scanner
# only at the start of the text), tabs (libyaml lets a plain scalar hold one, the pure scanner stops
# there and refuses the tab), and a comment straight after a block scalar's header (``|#``: libyaml
# reads a comment, the pure scanner refuses it). The characters are one class (the Reader's
# NON_PRINTABLE less tab and BOM), so a text is searched once; the header only when it holds '|' or '>'.
_LIBYAML_DIFFERS_CHAR = re.compile(r"[^\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFEFE\uFF00-\uFFFD"
                                   r"\U00010000-\U0010FFFF]")
_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _libyaml_differs(text: str) -> bool:
    """Whether ``text`` holds anything libyaml may read differently from the pure reader."""
    return _LIBYAML_DIFFERS_CHAR.search(text) is not None or (
        ("|" in text or ">" in text) and _BLOCK_HEADER_COMMENT.search(text) is not None)


if _CParser is not None:
    class _FastStrictLoader(_Strict, yaml.composer.Composer, _CParser, yaml.constructor.SafeConstructor,
                            yaml.resolver.Resolver):
        """Events from libyaml, composed by PyYAML's Python composer (so every node passes our checks)."""

        yaml_constructors = _StrictLoader.yaml_constructors
        yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers
        flow_depth = 0

        def __init__(self, stream: str, line_offset: int) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.line_offset = line_offset

        def compose_node(self, parent, index):  # type: ignore[override]
            event = self.peek_event()
            if getattr(event, "tag", None) == "!":
                raise _NotFast  # libyaml reads a bare '!' node as '', the pure parser as null
            if self.flow_depth and isinstance(event, yaml.ScalarEvent) and not event.style and "?" in event.value:
                raise _NotFast  # libyaml lets '?' into a plain scalar inside [...] or {...}, the pure scanner does not
            flow = int(bool(getattr(event, "flow_style", False)))
            self.flow_depth += flow
            try:
                return super().compose_node(parent, index)
            finally:
                self.flow_depth -= flow
else:
    _FastStrictLoader = None


def _unprintable(text: str, exc: yaml.reader.ReaderError, line_offset: int) -> YamlError:
    """YAML refuses control characters (BEL, ESC, ...) before parsing; say where the first one is."""
    before = text[:exc.position]
    line, column = before.count("\n") + 1 + line_offset, exc.position - (before.rfind("\n") + 1) + 1
    return YamlError(f"YAML: control character U+{exc.character:04X} is not allowed", line, column,
                     hint="delete the invisible character (often pasted from another program)")


def load(text: str, line_offset: int = 0) -> object:
    """Parse one YAML document strictly; raise :class:`YamlError` with a 1-based place."""
    try:
        return _load_events(text, line_offset)
    except Exception:  # noqa: BLE001, S110 (anything it declines or trips on is read again by the composer)
        pass
    try:
        return _load_fast(text, line_offset)
    except Exception:  # noqa: BLE001, S110 (any refusal or error is the pure reader's to report, in its words)
        pass
    return _load_pure(text, line_offset)  # outside the handler, so its errors chain to nothing of libyaml's


def _load_events(text: str, line_offset: int) -> object:
    """libyaml's events built straight into values, as :func:`_load_fast` would build them but without nodes.

    Composing a node tree and walking it again costs most of a load; front-matter is a flat mapping
    of scalars and short lists, which this builds in one pass. Whatever would make :func:`_load_fast`
    refuse, raise or decline (tags, anchors, aliases, duplicate or non-string keys, directives, deep
    nesting, the libyaml differences it guards against, any constructor error) is declined here with
    :class:`_NotFast`, so :func:`load` reads it again on the old path and its values, marks and
    messages stay the reference.
    """
    if _CParser is None or _libyaml_differs(text):
        raise _NotFast
    return _EventBuilder(text, line_offset).document()


_NULL_TAG = "tag:yaml.org,2002:null"
_INT_TAG = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# The constructors and implicit resolvers of the strict loader itself, so a scalar becomes the same value.
_CONSTRUCTORS = _StrictLoader.yaml_constructors
# By first character, in ``Resolver.resolve``'s order: that character's resolvers, then the wildcard ones.
_WILDCARD = tuple(_StrictLoader.yaml_implicit_resolvers.get(None, []))
_RESOLVE = {first: (*resolvers, *_WILDCARD) for first, resolvers in _StrictLoader.yaml_implicit_resolvers.items()}
# A constructor object for the scalar constructors, which only read the node handed to them.
_SCALARS = yaml.constructor.SafeConstructor()


_ScalarEvent, _AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
_MappingStart, _MappingEnd = yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStart, _SequenceEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent


class _EventBuilder:
    """One pass over libyaml's events: what the composer and :class:`_Strict`'s constructor would build."""

    def __init__(self, text: str, line_offset: int) -> None:
        self.next_event = _CParser(text).get_event
        self.line_offset = line_offset + 1

    def document(self) -> LineDict:
        """A stream of exactly one document, without directives, whose root is a mapping."""
        next_event = self.next_event
        if type(next_event()) is not yaml.StreamStartEvent:
            raise _NotFast
        start = next_event()
        if type(start) is not yaml.DocumentStartEvent or start.version is not None or start.tags is not None:
            raise _NotFast
        root = next_event()
        if type(root) is not _MappingStart:
            raise _NotFast
        value = self.node(root, 0, False)
        if type(next_event()) is not yaml.DocumentEndEvent or type(next_event()) is not yaml.StreamEndEvent:
            raise _NotFast
        return value

    def node(self, event: yaml.Event, depth: int, in_flow: bool) -> object:
        """One node and all below it; ``in_flow`` when inside ``[...]`` or ``{...}``.

        Scalars, most of the events, are handled here rather than in a method of their own (a call each).
        """
        kind = type(event)
        if kind is _AliasEvent or event.anchor is not None or event.tag is not None or depth >= MAX_DEPTH:
            raise _NotFast  # aliases, anchors, tags and deep nesting are the composer's to refuse
        if kind is _ScalarEvent:
            value = event.value
            if in_flow and not event.style and "?" in value:
                raise _NotFast  # libyaml lets '?' into a plain scalar inside [...] or {...}, the pure scanner does not
            if not event.implicit[0] or (value and value[0] not in _RESOLVE and not _WILDCARD):
                return value  # quoted or block, or no resolver for its first character: a string
            return _resolved(event, value)
        if kind is _MappingStart:
            return self.mapping(event, depth, in_flow or bool(event.flow_style))
        if kind is _SequenceStart:
            return self.sequence(event, depth, in_flow or bool(event.flow_style))
        raise _NotFast

    def mapping(self, start: yaml.MappingStartEvent, depth: int, in_flow: bool) -> LineDict:
        """A :class:`LineDict` with every key's place; a duplicate or non-string key is declined."""
        result = LineDict()
        offset = self.line_offset
        result.line, result.column = start.start_mark.line + offset, start.start_mark.column + 1
        lines = result.lines
        next_event = self.next_event
        node = self.node
        depth += 1
        while type(event := next_event()) is not _MappingEnd:
            key = node(event, depth, in_flow)
            if type(key) is not str or key in result:
                raise _NotFast  # the constructor's errors, in its words
            result[key] = node(next_event(), depth, in_flow)
            mark = event.start_mark
            lines[key] = mark.line + offset, mark.column + 1
        return result

    def sequence(self, start: yaml.SequenceStartEvent, depth: int, in_flow: bool) -> LineList:
        """A :class:`LineList` with every item's place."""
        items = []
        places = []
        offset = self.line_offset
        next_event = self.next_event
        node = self.node
        depth += 1
        while type(event := next_event()) is not _SequenceEnd:
            items.append(node(event, depth, in_flow))
            mark = event.start_mark
            places.append((mark.line + offset, mark.column + 1))
        result = LineList(items)
        result.lines = places
        result.line, result.column = start.start_mark.line + offset, start.start_mark.column + 1
        return result


def _resolved(event: yaml.ScalarEvent, value: str) -> object:
    """A plain scalar resolved and constructed exactly as ``Resolver.resolve`` and the strict constructors do."""
    for tag, regexp in _RESOLVE.get(value[0] if value else "", _WILDCARD):
        if regexp.match(value):
            break
    else:
        return value
    if tag == _NULL_TAG:
        return None
    if tag == _INT_TAG:  # the strict resolver admits only [-+]?(0|[1-9][0-9]*), which construct_yaml_int reads so
        return int(value)
    if tag == _TIMESTAMP_TAG and len(value) == 10:  # exactly YYYY-MM-DD: construct_yaml_timestamp's date
        return dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
    node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
    return _CONSTRUCTORS[tag](_SCALARS, node)


def _load_fast(text: str, line_offset: int) -> object:
    """libyaml's C parser under our composer and constructor; raises on anything the pure reader may read otherwise."""
    if _FastStrictLoader is None or _libyaml_differs(text):
        raise _NotFast
    loader = _FastStrictLoader(text, line_offset)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _load_pure(text: str, line_offset: int) -> object:
    """PyYAML's pure-Python reader: the reference whose values, places and messages :func:`load` gives."""
    try:
        loader = _StrictLoader(text, line_offset)
    except yaml.reader.ReaderError as exc:
        raise _unprintable(text, exc, line_offset) from None
    try:
        return loader.get_single_data()
    except YamlError:
        raise
    except yaml.reader.ReaderError as exc:
        raise _unprintable(text, exc, line_offset) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = loader._place(mark) if mark else (1 + line_offset, 1)
        raise YamlError(f"YAML syntax: {exc.problem or exc.context}", line, column,
                        hint="check indentation and quote values that contain ':' or '#'") from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise YamlError(f"YAML: {exc}", 1 + line_offset, 1) from None
    finally:
        loader.dispose()


# A line (between '\n's) that is '---' or '...' once trailing '\r's are stripped: a closing front-matter line.
_CLOSING_LINE = re.compile(r"^(?:---|\.\.\.)\r*$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Split ``---`` front-matter from the body: (yaml_text, body, body_start_line).

    Slices around the closing line rather than splitting the whole file into lines and joining the
    body again (a product's body is most of its text).
    """
    first_end = text.find("\n")
    if (text if first_end < 0 else text[:first_end]).rstrip("\r") != "---":
        raise YamlError("file must start with '---' front-matter", 1, 1,
                        hint="put '---' on the first line, the YAML keys, then '---'")
    closing = _CLOSING_LINE.search(text, first_end + 1) if first_end >= 0 else None
    if closing is None:
        raise YamlError("front-matter has no closing '---'", 1, 1,
                        hint="end the YAML block with a line holding only '---'")
    start, end = closing.span()
    yaml_text = text[first_end + 1:start - 1] if start > first_end + 1 else ""
    if len(yaml_text) > MAX_FRONT_MATTER:
        raise YamlError("front-matter is larger than 64 KiB", 2, 1)
    return yaml_text, text[end + 1:], text.count("\n", 0, start) + 2


def read_text(path: Path) -> str:
    """Read a UTF-8 file (a BOM is tolerated); raise YamlError on undecodable bytes."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise YamlError(f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, 1,
                        hint="save the file as UTF-8") from None
    if "\x00" in text:
        raise YamlError("file contains NUL bytes", text[:text.index("\x00")].count("\n") + 1, 1,
                        hint="is this a binary file?")
    return text.replace("\r\n", "\n")
