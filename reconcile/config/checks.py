"""Checks that need several parts of the config at once: one writer per property, unique names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconcile.config.schema import KeyPath
from reconcile.model import Job, ResourceConfig

if TYPE_CHECKING:
    from reconcile.config.build import Builder

__all__ = ["check_known_resource", "check_mapped_once", "check_property_owners", "check_unique_resource_names"]


def check_known_resource(b: Builder, at: KeyPath, name: str, job_resources: tuple[str, ...]) -> None:
    if name not in job_resources:
        raise b.error(at, f"unknown resource {name!r} (this job has: {', '.join(job_resources)})")


def check_mapped_once(b: Builder, at: KeyPath, resource: ResourceConfig) -> None:
    """A property written by two rules of one resource would flip between them."""
    written = [("properties", p.name) for p in resource.properties]
    written += [("touch", t.property) for t in resource.touch]
    owners: dict[str, str] = {}
    for group, name in written:
        first = owners.get(name.strip())
        if first is not None:
            where = group if first == group else f"{first} and {group}"
            raise b.error(
                (*at, group, name), f"property {name.strip()!r} is mapped twice in resource {resource.name} ({where})"
            )
        owners[name.strip()] = group
    touched = {t.property.strip() for t in resource.touch}
    if resource.match.property.strip() in touched:
        raise b.error((*at, "touch", resource.match.property), "the match property cannot be a touch property")
    for mark in resource.on_missing.set:
        if mark.name.strip() in touched:
            raise b.error((*at, "on_missing", "mark", mark.name), f"property {mark.name!r} is both marked and touched")


def check_unique_resource_names(b: Builder, jobs: tuple[Job, ...]) -> None:
    owner: dict[str, str] = {}
    for job in jobs:
        for resource in job.resources:
            first = owner.setdefault(resource.name, job.name)
            if first != job.name:
                raise b.error(
                    ("jobs", job.name, "resources", resource.name),
                    f"resource name {resource.name!r} is already used by job {first}",
                    hint="resource names are unique across jobs",
                )


@dataclass(frozen=True)
class Writer:
    job: str
    resource: ResourceConfig
    group: str  # where in the resource the property is written, for the error's key path


def written_properties(resource: ResourceConfig) -> Iterator[tuple[str, str]]:
    """(property, group) for every property this resource may write."""
    if resource.mode != "update-only":
        yield resource.match.property, "match"
    for p in resource.properties:
        yield p.name, "properties"
    for t in resource.touch:
        yield t.property, "touch"
    for m in resource.on_missing.set:
        yield m.name, "on_missing"


def same_target(a: ResourceConfig, b: ResourceConfig) -> bool:
    # Without a data source name a resource means the database's only one, so it may be either.
    if a.database != b.database:
        return False
    return a.data_source is None or b.data_source is None or a.data_source == b.data_source


def check_property_owners(b: Builder, jobs: tuple[Job, ...]) -> None:
    """Two resources writing one property of one database would fight over it on every run."""
    seen: list[tuple[str, Writer]] = []
    for job in jobs:
        for resource in job.resources:
            mine = dict.fromkeys(written_properties(resource))
            for name, group in mine:
                for other_name, other in seen:
                    if other_name.strip() == name.strip() and same_target(other.resource, resource):
                        raise b.error(
                            property_path(job.name, resource.name, group, name),
                            f"property {name!r} of database {resource.database} is also written by "
                            f"jobs.{other.job}.resources.{other.resource.name}",
                            hint="give each property one owner",
                        )
            seen += [(name, Writer(job.name, resource, group)) for name, group in mine]


def property_path(job: str, resource: str, group: str, name: str) -> KeyPath:
    base: KeyPath = ("jobs", job, "resources", resource)
    if group == "match":
        return (*base, "match", "property")
    if group == "on_missing":
        return (*base, "on_missing", "mark", name)
    return (*base, group, name)
