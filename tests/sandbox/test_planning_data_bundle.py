"""The bundled Planning Data records: how they are made, and that the shipped file is exactly that.

Regenerate after changing the recipe below with:
    /work/venv/bin/python tests/sandbox/test_planning_data_bundle.py
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from notion_sandbox import planning_data
from tests.support.fidelity import SHARED as SHARED_DIR

SHARED = SHARED_DIR / "planning-data"
BUNDLE = Path(planning_data.__file__).parent / "data" / "planning_data.json"

# Real dataset names (a subset of planning.data.gov.uk's ~100), all accepted by `dataset=`.
DATASET_NAMES = [
    "agricultural-land-classification", "air-quality-management-area", "ancient-woodland",
    "archaeological-priority-area", "area-of-outstanding-natural-beauty",
    "article-4-direction", "article-4-direction-area", "asset-of-community-value",
    "battlefield", "border", "brownfield-land", "built-up-area", "central-activities-zone",
    "conservation-area", "conservation-area-document", "design-code-area",
    "flood-risk-zone", "green-belt", "heritage-at-risk", "listed-building",
    "listed-building-outline", "local-authority", "local-authority-district",
    "local-planning-authority", "locally-listed-building", "national-park", "park-and-garden",
    "protected-wreck-site", "ramsar", "region", "scheduled-monument",
    "site-of-special-scientific-interest", "special-area-of-conservation",
    "special-protection-area", "tree", "tree-preservation-order", "tree-preservation-zone",
    "world-heritage-site", "world-heritage-site-buffer-zone",
]  # fmt: skip

# PlanX councils: local-authority reference -> (entity, approximate centre lon, lat)
COUNCILS = {
    "BDG": (41, 0.1297, 51.5465), "BNE": (48, -0.2176, 51.6252), "BIR": (44, -1.8904, 52.4862),
    "BRA": (56, 0.5536, 51.8786), "BRY": (65, 0.0512, 51.3727), "BUC": (67, -0.8123, 51.8168),
    "CAT": (75, 1.0789, 51.2802), "CMD": (90, -0.1426, 51.5290), "DNC": (109, -1.1287, 53.5228),
    "EPS": (129, -0.2690, 51.3360), "GAT": (142, -1.6032, 54.9527), "GLO": (145, -2.2431, 51.8642),
    "HOR": (171, -0.3271, 51.0629), "KTT": (188, -0.3064, 51.4085), "LBH": (192, -0.1163, 51.4571),
    "MDW": (212, 0.5218, 51.3880), "NET": (228, -1.6178, 54.9783), "SGC": (291, -2.4760, 51.5290),
    "SWK": (329, -0.0731, 51.4733), "SAL": (278, -0.3360, 51.7527), "TEW": (339, -2.1607, 51.9925),
    "WBK": (358, -1.3234, 51.4010),
}  # fmt: skip
HISTORIC_ENGLAND = 16

# dataset -> (first entity number, most records one council holds)
GEOGRAPHY = {
    "article-4-direction-area": (7010000000, 6),
    "conservation-area": (44000000, 14),
    "listed-building-outline": (42100000, 12),
    "tree": (19100000, 10),
    "tree-preservation-zone": (19000000, 12),
}
# Councils known to hold none of a dataset (FACTS §5: Southwark and Canterbury have no `tree`).
NONE_HELD = {
    ("tree", "SWK"), ("tree", "CAT"), ("tree", "BNE"), ("article-4-direction-area", "HOR"),
    ("article-4-direction-area", "TEW"), ("listed-building-outline", "GAT"),
    ("tree-preservation-zone", "KTT"), ("conservation-area", "BRA"),
}  # fmt: skip
PLACES = [
    "High Street", "Church Street", "Market Place", "Station Road", "The Green", "Park Road",
    "Albert Embankment", "Cobourg Road", "Victoria Park", "Mill Lane", "Queens Road",
    "Kings Avenue", "Castle Hill", "Riverside", "Old Town", "Manor Road",
]  # fmt: skip


def _number(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "big")


def _square(lon: float, lat: float, size: float) -> str:
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    ring = ", ".join(f"{x:.6f} {y:.6f}" for x, y in [*corners, corners[0]])
    return f"MULTIPOLYGON ((({ring})))"


def local_authority_entities(csv_path: Path) -> list[dict[str, Any]]:
    entities: dict[int, dict[str, Any]] = {}
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            number = int(row["entity"])
            if number in entities:  # entity 283 has two source rows; the API shows one
                continue
            entities[number] = {
                "entry-date": "2025-01-28",
                "start-date": row["start-date"] or None,
                "end-date": row["end-date"] or None,
                "entity": number,
                "name": row["name"],
                "dataset": "local-authority",
                "typology": "organisation",
                "reference": row["reference"],
                "prefix": "local-authority",
                "organisation-entity": number,
                "geometry": None,
                "point": None,
                "quality": None,
                "local-authority-type": row["local-authority-type"],
                "local-planning-authority": row["local-planning-authority"] or None,
                "statistical-geography": row["statistical-geography"],
            }
    return list(entities.values())


def geography_entities(dataset: str) -> list[dict[str, Any]]:
    first, most = GEOGRAPHY[dataset]
    entities = []
    next_number = first
    owners = [(ref, entity, lon, lat) for ref, (entity, lon, lat) in sorted(COUNCILS.items())]
    if dataset == "conservation-area":  # Historic England's duplicates (FACTS §5.2 caveats)
        owners.append(("HE", HISTORIC_ENGLAND, -0.0731, 51.4733))
    for reference, organisation, lon, lat in owners:
        count = 0 if (dataset, reference) in NONE_HELD else 1 + _number(dataset, reference) % most
        for index in range(count):
            entities.append(_geography_entity(dataset, next_number, organisation, index, lon, lat))
            next_number += 1 + _number(dataset, reference, index) % 40
    return entities


def _geography_entity(
    dataset: str, number: int, organisation: int, index: int, lon: float, lat: float
) -> dict[str, Any]:
    seed = _number(dataset, number)
    lon += (seed % 2000 - 1000) / 20000
    lat += (seed // 2000 % 2000 - 1000) / 40000
    is_point = dataset == "tree"
    ended = seed % 17 == 0
    entity: dict[str, Any] = {
        "entry-date": f"20{21 + seed % 4}-{1 + seed % 12:02d}-{1 + seed % 28:02d}",
        "start-date": f"{1968 + seed % 50}-{1 + seed % 12:02d}-{1 + seed % 27:02d}",
        "end-date": f"2024-{1 + seed % 12:02d}-15" if ended else None,
        "entity": number,
        "name": "" if dataset == "tree" else f"{PLACES[seed % len(PLACES)]} {index + 1}",
        "dataset": dataset,
        "typology": "geography",
        "reference": f"{dataset.split('-')[0].upper()[:3]}{organisation}-{index + 1:03d}",
        "prefix": dataset,
        "organisation-entity": organisation,
        "geometry": None if is_point else _square(lon, lat, 0.002 + (seed % 7) / 1000),
        "point": f"POINT ({lon:.6f} {lat:.6f})",
        "quality": None if organisation == HISTORIC_ENGLAND else "authoritative",
        "documentation-url": f"https://www.example-council-{organisation}.gov.uk/{dataset}",
    }
    if dataset == "listed-building-outline":
        entity["listed-building-grade"] = ("I", "II*", "II")[seed % 3 if seed % 5 else 2]
    if dataset == "tree":
        entity["tree-preservation-order"] = f"TPO-{organisation}-{seed % 900 + 100}"
    return entity


def build_bundle(csv_path: Path) -> dict[str, Any]:
    entities = local_authority_entities(csv_path)
    for dataset in GEOGRAPHY:
        entities.extend(geography_entities(dataset))
    return {"datasets": DATASET_NAMES, "entities": sorted(entities, key=lambda e: e["entity"])}


def _dump(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n"


@pytest.fixture
def shared_csv() -> Path:
    path = SHARED / "local_authority_entities.csv"
    if not path.exists():
        pytest.skip(f"reference data not found at {path}")
    return path


def test_bundled_file_is_exactly_what_the_recipe_builds(shared_csv: Path) -> None:
    assert BUNDLE.read_text(encoding="utf-8") == _dump(build_bundle(shared_csv))


def test_bundle_is_small_enough_to_ship() -> None:
    assert BUNDLE.stat().st_size < 1_000_000


def test_every_local_authority_row_is_bundled(shared_csv: Path) -> None:
    with shared_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    bundled = {
        e["entity"]: e for e in planning_data.bundled_data()["entities"]
        if e["dataset"] == "local-authority"
    }  # fmt: skip
    assert len(bundled) == len({row["entity"] for row in rows}) == 379
    for row in rows:
        if row["entity"] != "283":
            assert bundled[int(row["entity"])]["reference"] == row["reference"]


def test_some_councils_hold_none_of_a_dataset() -> None:
    data = planning_data.bundled_data()
    southwark = planning_data.dataset_counts(data, 329)
    assert "tree" not in southwark
    assert southwark["tree-preservation-zone"] > 0
    assert southwark["conservation-area"] > 0


if __name__ == "__main__":
    csv_file = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED / "local_authority_entities.csv"
    BUNDLE.write_text(_dump(build_bundle(csv_file)), encoding="utf-8")
    print(f"wrote {BUNDLE} ({BUNDLE.stat().st_size} bytes)")
