"""The config file as YAML: guessing its indent, parsing it, writing it atomically, and the
comment-keeping upgrade.

mautrix.util.config's ConfigUpdateHelper would do the upgrade, but it rebuilds the document from
the example and copies the user's values into it, so every comment the user wrote is lost (it
clears them on purpose). Here the user's document is the one kept, and the settings it lacks are
grafted in from the example together with the example's comments.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from .errors import ConfigError

# Shipped in the top-level ``bridge`` package (bridge/example-config.yaml), not in this one.
EXAMPLE_NAME = "example-config.yaml"
# Sections the user owns whole: an entry the user removed from them must stay removed.
OPAQUE_SECTIONS = frozenset({"bridge.permissions", "logging"})


def example_text() -> str:
    """The example config shipped inside the package, verbatim (comments and all)."""
    return resources.files("bridge").joinpath(EXAMPLE_NAME).read_text(encoding="utf-8")


@dataclass(frozen=True)
class _Indent:
    """The file's indentation, so that saving an upgraded file keeps the user's layout."""

    mapping: int = 4
    sequence: int = 6
    offset: int = 4

    @classmethod
    def guess(cls, text: str) -> _Indent:
        # ruamel's guess reports the sequence indent in place of the mapping indent when the file
        # has block sequences, so the mapping indent is read off the first nested key instead.
        _, sequence, offset = load_yaml_guess_indent(text)
        mapping = next(
            (
                len(line) - len(line.lstrip(" "))
                for line in text.splitlines()
                if line.startswith(" ") and line.strip()[:1] not in ("", "#", "-")
            ),
            cls.mapping,
        )
        if offset is None:
            return cls(mapping, mapping + 2, mapping)
        return cls(mapping, sequence, offset)

    def yaml(self) -> YAML:
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap a user's long lines
        yaml.indent(mapping=self.mapping, sequence=self.sequence, offset=self.offset)
        return yaml


def _parse(text: str, source: str) -> tuple[CommentedMap, _Indent]:
    try:
        indent = _Indent.guess(text)
        document = indent.yaml().load(text)
    except MarkedYAMLError as e:
        line = f" at line {e.problem_mark.line + 1}" if e.problem_mark else ""
        raise ConfigError(f"{source} is not valid YAML{line}: {e.problem}") from None
    except YAMLError as e:
        raise ConfigError(f"{source} is not valid YAML: {e}") from None
    if not isinstance(document, CommentedMap):
        raise ConfigError(f"{source} must hold a YAML mapping of settings")
    return document, indent


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step. Both the config and the registration hold secrets: a new
    file is private (0600), and an existing one keeps its owner and group bits (Synapse may
    read the registration through its group) but never stays readable by others."""
    try:
        mode = path.stat().st_mode & 0o770
    except FileNotFoundError:
        mode = 0o600
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        # Name the file the caller asked for, not the temporary one.
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class _Grafter:
    """Adds to the user's document the keys it lacks, with the example's comments above them.

    ruamel keeps a comment line with the key *before* it (as that key's trailing comment), so a
    key inserted after an existing one takes over that key's trailing comment lines: they were
    written about whatever followed, which still follows the inserted key.
    """

    def __init__(self, example: CommentedMap, example_source: str, indent: _Indent) -> None:
        self.example = example
        self.example_lines = example_source.splitlines()
        self.indent = indent
        self.added: list[str] = []

    def graft(self, user: CommentedMap) -> list[str]:
        self._merge(user, self.example, prefix="", depth=0)
        return self.added

    def _merge(self, user: CommentedMap, example: CommentedMap, prefix: str, depth: int) -> None:
        example_keys = list(example)
        for index, key in enumerate(example_keys):
            dotted = f"{prefix}{key}"
            if key in user:
                nested = isinstance(user[key], CommentedMap) and isinstance(
                    example[key], CommentedMap
                )
                if nested and dotted not in OPAQUE_SECTIONS:
                    self._merge(user[key], example[key], f"{dotted}.", depth + 1)
                continue
            present_before = [k for k in example_keys[:index] if k in user]
            position = list(user).index(present_before[-1]) + 1 if present_before else 0
            carried = self._take_trailing(user, present_before[-1]) if present_before else None
            user.insert(position, key, self._copy(example[key], depth + 1))
            self._set_comment_above(user, key, self._comment_above(example, key, depth))
            if carried:
                owner, owner_key = self._trailing_owner(user, key)
                self._entry(owner, owner_key)[2] = CommentToken("\n" + carried, CommentMark(0))
            self.added.append(dotted)

    def _copy(self, node: Any, depth: int) -> Any:
        """A copy of an example node whose comments are rebuilt for the user's indentation."""
        if not isinstance(node, CommentedMap):
            return copy.deepcopy(node)
        fresh = CommentedMap()
        for key, value in node.items():
            fresh[key] = self._copy(value, depth + 1)
            self._set_comment_above(fresh, key, self._comment_above(node, key, depth))
        return fresh

    def _comment_above(self, example: CommentedMap, key: Any, depth: int) -> list[CommentToken]:
        """The comment paragraph right above ``key`` in the example's text, and one blank line
        before it if there is one (the text, since ruamel files comments under other keys)."""
        line, _ = example.lc.key(key)
        start = line
        while start > 0 and self.example_lines[start - 1].lstrip().startswith("#"):
            start -= 1
        if start > 0 and not self.example_lines[start - 1].strip():
            start -= 1
        mark = CommentMark(depth * self.indent.mapping)
        return [
            CommentToken(f"{text.strip()}\n" if text.strip() else "\n", mark)
            for text in self.example_lines[start:line]
        ]

    def _set_comment_above(self, mapping: CommentedMap, key: Any, tokens: list[Any]) -> None:
        if tokens:
            self._entry(mapping, key)[1] = tokens

    @staticmethod
    def _entry(mapping: CommentedMap, key: Any) -> list[Any]:
        entry: list[Any] = mapping.ca.items.setdefault(key, [None, None, None, None])
        return entry

    @staticmethod
    def _trailing_owner(mapping: CommentedMap, key: Any) -> tuple[CommentedMap, Any]:
        """The map and key whose trailing comment ends the text of ``mapping[key]``."""
        while isinstance(mapping[key], CommentedMap) and mapping[key]:
            mapping = mapping[key]
            key = list(mapping)[-1]
        return mapping, key

    def _take_trailing(self, mapping: CommentedMap, key: Any) -> str | None:
        """Detach the full comment lines after ``mapping[key]``, leaving its inline comment."""
        owner, owner_key = self._trailing_owner(mapping, key)
        entry = owner.ca.items.get(owner_key)
        if not entry or entry[2] is None:
            return None
        inline, _, following = entry[2].value.partition("\n")
        if not following:
            return None
        if inline.strip():
            entry[2].value = inline + "\n"
        else:
            entry[2] = None
        return str(following)


def _plain(node: Any) -> Any:
    """ruamel's commented containers and scalar subclasses as plain Python values."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq | list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    for kind in (str, int, float):
        if isinstance(node, kind):
            return kind(node)
    return node
