"""Reading a scenario's YAML as a bounded document: hostile files are refused in one line, fast.

A scenario file is small. Anything that makes the YAML reader crash, recurse or expand without
bound is refused before it costs time or memory, each with one line naming the limit:

- the file must be a regular file of at most :data:`MAX_FILE_BYTES`;
- nesting at most :data:`MAX_DEPTH` levels (``[[[[...`` of 500 levels would overflow the stack);
- at most :data:`MAX_NODES` nodes once aliases are expanded (a 516-byte file of nested ``*alias``
  references can stand for 10^8 nodes);
- no recursive alias (``meta: &a [*a]``), no explicit tag (``!!int abc``, ``!!python/...``,
  ``!custom``): scenario values are plain YAML;
- integers of at most :data:`MAX_INT_DIGITS` digits (Python refuses to convert 4,301 digits);
- no duplicate key (YAML would silently keep the last).

The result is the plain data plus the line of each field path, for messages.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..suggest import shown

MAX_FILE_BYTES = 1_000_000  #: Largest scenario file read (1 MB; the shipped ones are under 10 kB).
MAX_DEPTH = 64  #: Deepest nesting of mappings and lists.
MAX_NODES = 100_000  #: Most YAML nodes after alias expansion (the shipped files have under 2,000).
MAX_INT_DIGITS = 20  #: Longest integer literal (a 64-bit integer has 19 digits).

Path_ = tuple[str | int, ...]

_STANDARD = "tag:yaml.org,2002:"  #: Prefix of the standard tags PyYAML resolves ``!!int`` to.


class DocumentProblem(Exception):
    """The document breaks one of the limits above (``line`` is 1-based, or ``None``)."""

    def __init__(self, path: Path_, message: str, line: int | None):
        super().__init__(message)
        self.path, self.message, self.line = path, message, line


def _line(node_or_event: Any) -> int | None:
    mark = getattr(node_or_event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit, no recursive aliases, no explicit tags."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._open: set[str] = set()  # anchors whose node is still being composed

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise DocumentProblem((), f"recursive alias '*{shown(event.anchor, 40)}' (a node that contains itself)", _line(event))
            return super().compose_node(parent, index)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            tag = "!!" + tag[len(_STANDARD) :] if tag.startswith(_STANDARD) else tag
            raise DocumentProblem((), f"YAML tags such as '{shown(tag, 40)}' are not accepted in scenario files: write the plain value", _line(event))
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise DocumentProblem((), f"nested more than {MAX_DEPTH} levels deep (the limit for a scenario file)", _line(event))
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open.discard(anchor)

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise DocumentProblem((), f"an integer of {digits} digits: at most {MAX_INT_DIGITS} are accepted", _line(node))
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the tree once every alias is expanded (shared nodes counted each time they are used)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        children = _children(node)
        if children_done or not children:
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            if size[id(node)] > MAX_NODES:
                return size[id(node)]
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line_map(root: yaml.Node) -> dict[Path_, int]:
    """Each field path's 1-based line; refuses duplicate keys."""
    lines: dict[Path_, int] = {}
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "<mapping key>"
                sub = path + (name,)
                line = key.start_mark.line + 1
                if name in seen:
                    raise DocumentProblem(sub, f"duplicate key (first given on line {seen[name]}); YAML would silently keep only the last", line)
                seen[name] = line
                lines[sub] = line
                stack.append((value, sub))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[path + (i,)] = item.start_mark.line + 1
                stack.append((item, path + (i,)))
    return lines


def parse(text: str) -> tuple[Any, dict[Path_, int]]:
    """Plain data and line map of one YAML document. Raises :class:`DocumentProblem` or ``yaml.YAMLError``."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        nodes = _expanded_size(node)
        if nodes > MAX_NODES:
            raise DocumentProblem((), f"more than {MAX_NODES:,} YAML nodes once aliases are expanded (the limit for a scenario file)", None)
        lines = _line_map(node)
        try:
            data = loader.construct_document(node)
        except (ValueError, OverflowError) as exc:
            raise DocumentProblem((), f"cannot read a value: {shown(exc, 120)}", None) from None
        return data, lines
    finally:
        loader.dispose()


def parse_value(text: str) -> Any:
    """A ``--set`` value read as YAML under the same limits (a plain string if it is not YAML)."""
    try:
        return parse(text)[0]
    except yaml.YAMLError:
        return text
