"""GraphQL execution: resolvers, the PlanX schema, Hasura-style error paths and messages, the request."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    VariableNode,
    build_schema,
    execute_sync,
    parse,
    specified_rules,
    validate,
)
from graphql.error import GraphQLSyntaxError
from graphql.language import DocumentNode, SelectionSetNode, ValueNode
from graphql.validation import NoUnusedVariablesRule

from notion_sandbox.planx.compile import Compiler, Selection, _count, _equality_key, compile_selection
from notion_sandbox.planx.snapshot import RELATIONSHIPS, TABLES, Database, HasuraError, Relationship, Row

# --------------------------------------------------------------------------------------------
# Resolvers
# --------------------------------------------------------------------------------------------


@dataclass
class RequestContext:
    """What the resolvers of one request share: the database, AST paths and compiled arguments."""

    compiler: Compiler
    paths: dict[Any, str]
    selections: dict[int, Selection] = field(default_factory=dict)

    def selection(self, table: str, info: GraphQLResolveInfo, args: Mapping[str, Any]) -> Selection:
        # arguments depend only on the AST node and the request's variables, so compile once per node
        node = info.field_nodes[0]
        cached = self.selections.get(id(node))
        if cached is None:
            path = self.paths.get(id(node), "$")
            cached = compile_selection(self.compiler, table, args, path)
            self.selections[id(node)] = cached
        return cached


def _root_list(table: str) -> Callable[..., list[Row]]:
    def resolve(_source: Any, info: GraphQLResolveInfo, **args: Any) -> list[Row]:
        context: RequestContext = info.context
        return context.selection(table, info, args).apply(context.compiler.db.rows(table))

    return resolve


def _root_aggregate(table: str) -> Callable[..., dict[str, Any]]:
    rows = _root_list(table)
    return lambda source, info, **args: {"__rows": rows(source, info, **args)}


def _root_by_pk(table: str, kind: str) -> Callable[..., Row | None]:
    def resolve(_source: Any, info: GraphQLResolveInfo, **args: Any) -> Row | None:
        context: RequestContext = info.context
        path = context.paths.get(id(info.field_nodes[0]), "$") + ".args.id"
        key = _equality_key(kind, args["id"], path)
        matches = context.compiler.db.indexes[(table, "id")].get(key, [])
        return matches[0] if matches else None

    return resolve


def _relationship_resolver(relationship: Relationship, aggregate: bool) -> Callable[..., Any]:
    def resolve(source: Row, info: GraphQLResolveInfo, **args: Any) -> Any:
        context: RequestContext = info.context
        rows = context.compiler.db.related(relationship, source)
        if not relationship.is_array:
            return rows[0] if rows else None
        selected = context.selection(relationship.target, info, args).apply(rows)
        return {"__rows": selected} if aggregate else selected

    return resolve


def _aggregate_count(source: dict[str, Any], _info: Any, **args: Any) -> int:
    return _count(source["__rows"], list(args.get("columns") or []), bool(args.get("distinct")))


@lru_cache(maxsize=1)
def planx_schema() -> GraphQLSchema:
    """The PlanX public schema with this module's resolvers attached."""
    sdl = resources.files("notion_sandbox").joinpath("data/planx_schema.graphql").read_text()
    schema = build_schema(sdl)
    root = schema.query_type
    assert root is not None
    for table in TABLES:
        root.fields[table].resolve = _root_list(table)
    root.fields["flows_aggregate"].resolve = _root_aggregate("flows")
    root.fields["teams_by_pk"].resolve = _root_by_pk("teams", "Int")
    root.fields["flows_by_pk"].resolve = _root_by_pk("flows", "uuid")
    for (table, name), relationship in RELATIONSHIPS.items():
        fields = schema.get_type(table).fields  # type: ignore[union-attr]
        fields[name].resolve = _relationship_resolver(relationship, name.endswith("_aggregate"))
    aggregate = schema.get_type("flows_aggregate").fields  # type: ignore[union-attr]
    aggregate["nodes"].resolve = lambda source, _info: source["__rows"]
    aggregate["aggregate"].resolve = lambda source, _info: source
    schema.get_type("flows_aggregate_fields").fields["count"].resolve = _aggregate_count  # type: ignore[union-attr]
    return schema


# --------------------------------------------------------------------------------------------
# Hasura-style error paths and messages
# --------------------------------------------------------------------------------------------


def node_paths(document: DocumentNode) -> dict[Any, str]:
    """Hasura's JSON path (`$.selectionSet.teams.args.where...`) of every field, argument and value."""
    paths: dict[Any, str] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            _walk_selections(definition.selection_set, "$", paths)
    return paths


def _walk_selections(selection_set: SelectionSetNode | None, prefix: str, paths: dict) -> None:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            path = f"{prefix}.selectionSet.{selection.name.value}"
            paths[id(selection)] = path
            for argument in selection.arguments or ():
                paths[id(argument)] = path
                _walk_value(argument.value, f"{path}.args.{argument.name.value}", paths)
            _walk_selections(selection.selection_set, path, paths)
        elif isinstance(selection, InlineFragmentNode):
            _walk_selections(selection.selection_set, prefix, paths)


def _walk_value(node: ValueNode, path: str, paths: dict) -> None:
    paths[id(node)] = path
    if isinstance(node, ObjectValueNode):
        for object_field in node.fields:
            child = f"{path}.{object_field.name.value}"
            paths[id(object_field)] = child
            _walk_value(object_field.value, child, paths)
    elif isinstance(node, ListValueNode):
        for index, item in enumerate(node.values):
            _walk_value(item, f"{path}[{index}]", paths)
    elif isinstance(node, VariableNode):
        paths.setdefault(f"${node.name.value}", path)


_SCALAR_WORDS = {"Int": "32-bit integer", "Float": "float", "String": "string", "Boolean": "boolean"}


def _enum_values(schema: GraphQLSchema, enum_name: str) -> str:
    values = list(schema.get_type(enum_name).values)  # type: ignore[union-attr]
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _found(node: Any) -> str:
    return {
        "string_value": "a string",
        "int_value": "a number",
        "float_value": "a number",
        "boolean_value": "a boolean",
        "object_value": "an object",
        "list_value": "a list",
        "enum_value": "an enum value",
    }.get(getattr(node, "kind", ""), "a value")


def _validation_rewrites(schema: GraphQLSchema) -> list[tuple[re.Pattern[str], Callable]]:
    """graphql-core's validation messages, rewritten into Hasura's wording."""
    return [
        (re.compile(r"^Cannot query field '(\w+)' on type '(\w+)'\."),
         lambda m, node: f"field '{m[1]}' not found in type: '{m[2]}'"),
        (re.compile(r"^Field '(\w+)' is not defined by type '(\w+)'\."),
         lambda m, node: f"field '{m[1]}' not found in type: '{m[2]}'"),
        (re.compile(r"^Expected value of type '(\w+)' not to include unknown field '(\w+)'"),
         lambda m, node: f"field '{m[2]}' not found in type: '{m[1]}'"),
        (re.compile(r"^Unknown argument '(\w+)' on field '\w+\.(\w+)'\."),
         lambda m, node: f"'{m[2]}' has no argument named '{m[1]}'"),
        (re.compile(r"^Enum '(\w+)' cannot represent non-enum value"),
         lambda m, node: f'expected an enum value for type "{m[1]}", but found {_found(node)}'),
        (re.compile(r"^Value '(\w+)' does not exist in '(\w+)' enum\."),
         lambda m, node: f"expected one of the values {_enum_values(schema, m[2])} for type "
                         f"'{m[2]}', but found '{m[1]}'"),
        (re.compile(r"^(Int|Float|String|Boolean) cannot represent"),
         lambda m, node: f'expected a {_SCALAR_WORDS[m[1]]} for type "{m[1]}", but found {_found(node)}'),
        (re.compile(r"^Field '\w+' of type '\W*(\w+)\W*' must have a selection of subfields"),
         lambda m, node: f'missing selection set for "{m[1]}"'),
        (re.compile(r"^Argument '[\w.]+\((\w+):\)' of type '.+' is required"),
         lambda m, node: f"missing required field '{m[1]}'"),
        (re.compile(r"^Field '\w+\.(\w+)' of required type '.+' was not provided"),
         lambda m, node: f"missing required field '{m[1]}'"),
        (re.compile(r"^Variable '\$(\w+)' is not defined"),
         lambda m, node: f"unbound variable \"{m[1]}\""),
        (re.compile(r"^(Schema is not configured to execute mutation|The mutation operation)"),
         lambda m, node: "no mutations exist"),
    ]  # fmt: skip


def hasura_error_from_validation(error: GraphQLError, schema: GraphQLSchema, paths: dict[Any, str]) -> HasuraError:
    node = error.nodes[0] if error.nodes else None
    path = paths.get(id(node), "$") if node is not None else "$"
    for pattern, rewrite in _validation_rewrites(schema):
        match = pattern.match(error.message)
        if match:
            return HasuraError(rewrite(match, node), path)
    return HasuraError(error.message, path)


def hasura_error_from_variable(error: GraphQLError, schema: GraphQLSchema, paths: dict[Any, str]) -> HasuraError:
    match = re.match(r"^Variable '\$(\w+)' (?:got|has) invalid value(?:.*?)[;:] (.*)$", error.message, re.S)
    if not match:
        return HasuraError(error.message, "$")
    name, detail = match[1], match[2]
    path = paths.get(f"${name}", "$")
    enum = re.match(r"^Value '?(.*?)'? does not exist in '(\w+)' enum", detail)
    if enum:
        values = _enum_values(schema, enum[2])
        return HasuraError(
            f"expected one of the values {values} for type '{enum[2]}', but found '{enum[1]}'",
            path,
        )
    return HasuraError(detail.rstrip("."), path)


# --------------------------------------------------------------------------------------------
# The request: JSON body -> Hasura answer
# --------------------------------------------------------------------------------------------

_JSON_KINDS = {dict: "Object", list: "Array", str: "String", bool: "Boolean", type(None): "Null"}


def _json_kind(value: Any) -> str:
    return _JSON_KINDS.get(type(value), "Number")


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any]
    operation_name: str | None


def parse_request(body: bytes) -> GraphQLRequest:
    """Decode the POST body the way Hasura does, raising its `invalid-json`/`parse-failed` errors."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HasuraError("Error in $: Failed reading: not a valid json value", "$", "invalid-json") from None
    if not isinstance(payload, dict):
        raise HasuraError(
            f"Error in $: expected Object, but encountered {_json_kind(payload)}",
            "$",
            "parse-failed",
        )
    if "query" not in payload:
        raise HasuraError('Error in $: key "query" not found', "$", "parse-failed")
    query, variables, name = payload["query"], payload.get("variables"), payload.get("operationName")
    for key, value, wanted in (
        ("query", query, str),
        ("variables", variables, dict | None),
        ("operationName", name, str | None),
    ):
        if not isinstance(value, wanted):
            expected = "String" if key != "variables" else "Object"
            raise HasuraError(
                f"Error in $.{key}: expected {expected}, but encountered {_json_kind(value)}",
                "$",
                "parse-failed",
            )
    return GraphQLRequest(query, variables or {}, name)


def _selected_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise HasuraError(
                "exactly one operation has to be present in the document when operationName is not specified"
            )
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise HasuraError(f'no such operation found in the document: "{name}"')


def _check_variables(operation: OperationDefinitionNode, variables: Mapping[str, Any]) -> None:
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    unexpected = sorted(set(variables) - declared)
    if unexpected:
        raise HasuraError(f"unexpected variables in variableValues: {', '.join(unexpected)}")


_RULES = tuple(rule for rule in specified_rules if rule is not NoUnusedVariablesRule)


def execute_request(schema: GraphQLSchema, db: Database, request: GraphQLRequest) -> dict[str, Any]:
    """Run one GraphQL request; Hasura answers either `data` or a single error, never both."""
    try:
        document = parse(request.query)
    except GraphQLSyntaxError:
        raise HasuraError("not a valid graphql query", "$.query") from None
    paths = node_paths(document)
    errors = validate(schema, document, _RULES)
    if errors:
        raise hasura_error_from_validation(errors[0], schema, paths)
    operation = _selected_operation(document, request.operation_name)
    _check_variables(operation, request.variables)
    context = RequestContext(Compiler(schema, db), paths)
    result = execute_sync(
        schema,
        document,
        variable_values=request.variables,
        operation_name=request.operation_name,
        context_value=context,
    )
    if result.errors:
        raise _hasura_error_from_execution(result.errors[0], schema, paths)
    return {"data": result.data}


def _hasura_error_from_execution(error: GraphQLError, schema: GraphQLSchema, paths: dict[Any, str]) -> HasuraError:
    if isinstance(error.original_error, HasuraError):
        return error.original_error
    if error.message.startswith("Variable '$"):
        return hasura_error_from_variable(error, schema, paths)
    return HasuraError(error.message, "$", "unexpected")
