"""The ELAsTiCC2 class taxonomy, as data.

Broker class ids have up to four digits; each digit refines the one before (2000 Variable ->
2200 Non-Recurring -> 2220 SN-like -> 2222 Ia). Leaves map to the SNANA model types
("gentypes") that were simulated. From this one tree come both taxonomy tables:

* ``elasticc2_gentypeofclassid``: for each gentype, the exact class id (plus one row with no
  gentype for every node that has no simulated model);
* ``elasticc2_classidofgentype``: for each class id, every gentype it matches, and how:
  exactly (the leaf), by category (``abc0``), generally (``ab00``) or broadly (``a000``).
"""

from __future__ import annotations

#: class id -> description, for every node of the taxonomy.
CLASSES: dict[int, str] = {
    0: "Meta", 100: "Meta/Other", 200: "Residual", 300: "NotClassified",
    1000: "Static", 1100: "Static/Other",
    2000: "Variable", 2100: "Variable/Other",
    2200: "Non-Recurring", 2210: "Non-Recurring/Other",
    2220: "SN-like", 2221: "SN-like/Other", 2222: "Ia", 2223: "Ib/c", 2224: "II", 2225: "Iax", 2226: "91bg",
    2230: "Fast", 2231: "Fast/Other", 2232: "KN", 2233: "M-dwarf Flare", 2234: "Dwarf Novae", 2235: "uLens",
    2240: "Long", 2241: "Long/Other", 2242: "SLSN", 2243: "TDE", 2244: "ILOT", 2245: "CART", 2246: "PISN",
    2300: "Recurring", 2310: "Recurring/Other",
    2320: "Periodic", 2321: "Periodic/Other", 2322: "Cepheid", 2323: "RR Lyrae", 2324: "Delta Scuti",
    2325: "EB", 2326: "LPV/Mira",
    2330: "Non-Periodic", 2331: "Non-Periodic/Other", 2332: "AGN",
}

#: leaf class id -> the SNANA gentypes simulated for it.
GENTYPES_OF_LEAF: dict[int, tuple[int, ...]] = {
    2222: (10,), 2223: (20, 21, 25, 26, 27), 2224: (30, 31, 32, 35, 36, 37), 2225: (12,), 2226: (11,),
    2232: (50, 51), 2233: (82,), 2234: (84,), 2235: (87, 88, 89),
    2242: (40,), 2243: (42,), 2244: (45,), 2245: (46,), 2246: (59,),
    2322: (90,), 2323: (80,), 2324: (91,), 2325: (83,), 2332: (60,),
}

#: The 19 leaf classes with simulated models.
SIMULATED_LEAF_CLASSES: tuple[int, ...] = tuple(sorted(GENTYPES_OF_LEAF))


def leaf_of_gentype(gentypes_of_leaf: dict[int, tuple[int, ...]], gentype: int) -> int | None:
    """The leaf class id listing ``gentype`` in ``gentypes_of_leaf``, or None (shared with ELAsTiCC 1)."""
    for classid, gentypes in gentypes_of_leaf.items():
        if gentype in gentypes:
            return classid
    return None


def rows_by_classid(classes: dict[int, str], gentypes_of_leaf: dict[int, tuple[int, ...]],
                    key: str) -> list[dict]:
    """Gentype-of-classid rows: one per (class, gentype), a NULL gentype for classes without models.

    ``key`` names the class-id column (``classid`` here, ``classId`` in ELAsTiCC 1).
    """
    rows = []
    for classid in sorted(classes):
        gentypes = gentypes_of_leaf.get(classid) or (None,)
        rows += [{key: classid, "gentype": g, "description": classes[classid]} for g in gentypes]
    return rows


def exact_classid(gentype: int) -> int | None:
    """The leaf class id of an SNANA gentype, or None if the gentype is not in the taxonomy."""
    return leaf_of_gentype(GENTYPES_OF_LEAF, gentype)


def gentype_of_classid_rows() -> list[dict]:
    """Rows of ``elasticc2_gentypeofclassid``, ordered by class id."""
    return rows_by_classid(CLASSES, GENTYPES_OF_LEAF, "classid")


def classid_of_gentype_rows() -> list[dict]:
    """Rows of ``elasticc2_classidofgentype``: for every simulated gentype, its leaf and its ancestors."""
    levels = (  # (how to get the ancestor id from a leaf id, flags exact/category/general/broad)
        (lambda c: c, (True, True, True, True)),
        (lambda c: c // 10 * 10, (False, True, True, True)),
        (lambda c: c // 100 * 100, (False, False, True, True)),
        (lambda c: c // 1000 * 1000, (False, False, False, True)),
    )
    rows = []
    for leaf, gentypes in sorted(GENTYPES_OF_LEAF.items()):
        for gentype in gentypes:
            for ancestor, (exact, category, general, broad) in levels:
                classid = ancestor(leaf)
                rows.append({"classid": classid, "gentype": gentype, "description": CLASSES[classid],
                             "exactmatch": exact, "categorymatch": category, "generalmatch": general,
                             "broadmatch": broad})
    rows.sort(key=lambda r: (r["classid"], r["gentype"]))
    return rows


def fill_tables(gentype_of_classid_model, classid_of_gentype_model) -> bool:
    """Fill the two taxonomy tables if they are empty (models given, so migrations can pass theirs).

    Returns True if anything was written.
    """
    wrote = False
    for model, rows in ((gentype_of_classid_model, gentype_of_classid_rows()),
                        (classid_of_gentype_model, classid_of_gentype_rows())):
        if not model.objects.exists():
            model.objects.bulk_create(model(**row) for row in rows)
            wrote = True
    return wrote
