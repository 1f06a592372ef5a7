"""YAML in, bounded: a safe loader that refuses duplicate keys, alias bombs and deep nesting.

A YAML alias repeats a node without repeating its text, so a few hundred bytes can stand for
billions of values ("billion laughs"). Before the document is built, `check_bounds` reads its
event stream (with libyaml when present, so it is quick) and counts every value as it would be
once the aliases are expanded, stopping at `MAX_VALUES`; the nesting depth and the file's size are
bounded too. Each refusal is one `ConfigError` line. Well-formedness itself is left to the
(pure-Python) SafeLoader, whose messages the docs and tests pin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from reconcile.errors import ConfigError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_VALUES",
    "StrictLoader",
    "check_bounds",
    "check_size",
    "parse_yaml",
]

MAX_CONFIG_BYTES = 512 * 1024  # a 12,000-council allowlist is about 300 KB
MAX_VALUES = 30_000  # values in the document with its aliases expanded
MAX_DEPTH = 32  # nesting of mappings and lists; a real config is under 10 deep


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys and keeps dates as text (JSON has no dates)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def refuse_duplicate_keys(loader: yaml.constructor.BaseConstructor, node: yaml.MappingNode) -> None:
    # Only the mapping's own keys: a key that overrides one brought in by a `<<` merge is intended.
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:
            continue  # an unhashable key; SafeLoader itself reports it
        if first is not key_node:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {first.start_mark.line + 1})",
                key_node.start_mark,
            )


def timestamp_as_text(loader: StrictLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_yaml_str(node)


StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", timestamp_as_text)

_HAS_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))

if _HAS_LIBYAML:
    CParser = yaml.cyaml.CParser  # type: ignore[attr-defined]

    class FastStrictLoader(CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):  # type: ignore[misc,valid-type]
        """StrictLoader's constructor over libyaml's parser: a 12,000-council allowlist builds in a
        fraction of the time. Only for documents it accepts; a mistake is reported by StrictLoader."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            refuse_duplicate_keys(self, node)
            return super().construct_mapping(node, deep=deep)

    FastStrictLoader.add_constructor("tag:yaml.org,2002:timestamp", timestamp_as_text)


def check_size(size: int, path: str, unit: str = "bytes") -> None:
    """Refuse a config over MAX_CONFIG_BYTES before reading or parsing it."""
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: {size:,} {unit} is more than a config may be ({MAX_CONFIG_BYTES:,} bytes)",
            hint="is this the right file?",
        )


def check_bounds(text: str, path: str) -> None:
    """Refuse a document over MAX_VALUES (aliases expanded) or MAX_DEPTH, reading only its events."""
    sizes: dict[str, int] = {}  # anchor -> the values its node stands for
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, values before it) of each open collection
    values = 0
    for event in _events(text):
        if isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            size = 1 if isinstance(event, yaml.ScalarEvent) else _alias_size(event, sizes, open_nodes, path)
            values += size
            if isinstance(event, yaml.ScalarEvent) and event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                raise bound_error(path, event, f"nested more than {MAX_DEPTH} levels deep")
            open_nodes.append((event.anchor, values))
        elif isinstance(event, yaml.CollectionEndEvent) and open_nodes:
            anchor, before = open_nodes.pop()
            values += 1
            if anchor:
                sizes[anchor] = values - before
        if values > MAX_VALUES:
            raise bound_error(
                path,
                event,
                f"the document holds more than {MAX_VALUES:,} values, counting each alias as all it repeats "
                "(an alias bomb?)",
            )


def _events(text: str) -> Iterator[yaml.Event]:
    """The document's events; a malformed document just ends them (the SafeLoader reports it)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def _alias_size(
    event: yaml.AliasEvent, sizes: dict[str, int], open_nodes: list[tuple[str | None, int]], path: str
) -> int:
    anchor = event.anchor or ""
    if anchor in sizes:
        return sizes[anchor]
    if any(a == anchor for a, _ in open_nodes):
        raise bound_error(path, event, "an alias refers to a node that contains it (a recursive alias)")
    return 1  # an undefined alias: the SafeLoader reports it


def bound_error(path: str, event: yaml.Event, problem: str) -> ConfigError:
    mark = event.start_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
    return ConfigError(f"{where}: {problem}", hint="a config is far smaller; check the file")


def parse_yaml(text: str, path: str) -> Any:
    """The document in `text`; a YAML mistake or a bound becomes `file:line:column: problem`."""
    check_size(len(text), path, "characters")
    check_bounds(text, path)
    fast = fast_parse(text)
    if fast is not None:
        return fast
    loader = StrictLoader(text)  # a SafeLoader: no Python tags
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        problem = exc.problem or exc.context or "malformed YAML"
        raise ConfigError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    finally:
        loader.dispose()
    if document is None:
        raise ConfigError(f"{path}: the file is empty", hint="it needs at least version: 1 and jobs:")
    return document


def fast_parse(text: str) -> Any:
    """The document through libyaml, when present and the document is well-formed, not empty and
    has no duplicate key; otherwise None, and the pure-Python StrictLoader says what is wrong in
    the words the docs and tests pin."""
    if not _HAS_LIBYAML:
        return None
    loader = FastStrictLoader(text)
    try:
        return loader.get_single_data()
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()
