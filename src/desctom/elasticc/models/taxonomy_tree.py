"""The ELAsTiCC (1) class taxonomy, as data (the shared CSVs are checked against it in the tests).

Class ids have one to three digits; each digit refines the one before (1 Non-Recurring -> 11
SN-like -> 111 Ia). Leaves map to the simulated SNANA gentypes. Two tables come from this:

* ``elasticc_gentypeofclassid``: for each gentype its exact class id, plus one row without a
  gentype for every node that has no simulated model;
* ``elasticc_classidofgentype``: for each class id every gentype it matches, exactly (the leaf,
  both flags true), by category (two digits, ``categorymatch`` only) or broadly (one digit, no flag).

Faithful to the original tables: the periodic leaves (211-214) have category 20 described as
"Periodic" (not 21), and neither broad class 0 nor LPV/Mira (215, no model) appear there.
"""

from __future__ import annotations

from desctom.survey.taxonomy import leaf_of_gentype, rows_by_classid

#: class id -> description, for every node of the taxonomy.
CLASSES: dict[int, str] = {
    0: "Static/Other", 1: "Non-Recurring", 10: "Non-Recurring/Other",
    11: "SN-like", 110: "SN-like/Other", 111: "Ia", 112: "Ib/c", 113: "II", 114: "Iax", 115: "91bg",
    12: "Fast", 120: "Fast/Other", 121: "KN", 122: "M-dwarf Flare", 123: "Dwarf Nova", 124: "uLens",
    13: "Long", 130: "Long/Other", 131: "SLSN", 132: "TDE", 133: "ILOT", 134: "CART", 135: "PISN",
    2: "Recurring", 20: "Recurring/Other", 21: "Periodic", 210: "Periodic/Other", 211: "Cepheid",
    212: "RR Lyrae", 213: "Delta Scuti", 214: "EB", 215: "LPV/Mira",
    22: "Non-Periodic", 220: "Non-Periodic/Other", 221: "AGN",
}

#: leaf class id -> the SNANA gentypes simulated for it.
GENTYPES_OF_LEAF: dict[int, tuple[int, ...]] = {
    111: (10,), 112: (20, 21, 25, 26, 27), 113: (30, 31, 32, 35, 36, 37), 114: (12,), 115: (11,),
    121: (50, 51), 122: (82,), 123: (84,), 124: (87, 88, 89),
    131: (40,), 132: (42,), 133: (45,), 134: (46,), 135: (59,),
    211: (90,), 212: (80,), 213: (91,), 214: (83,), 221: (60,),
}

#: The original's category rows for a category id: (class id stored, description stored).
_CATEGORY_AS_STORED = {21: (20, "Periodic")}


def exact_classid(gentype: int) -> int | None:
    """The leaf class id of an SNANA gentype, or None if the taxonomy has no such gentype."""
    return leaf_of_gentype(GENTYPES_OF_LEAF, gentype)


def gentype_of_classid_rows() -> list[dict]:
    """Rows of ``elasticc_gentypeofclassid``, ordered by class id then gentype."""
    return rows_by_classid(CLASSES, GENTYPES_OF_LEAF, "classId")


def classid_of_gentype_rows() -> list[dict]:
    """Rows of ``elasticc_classidofgentype``: each simulated gentype with its leaf, category, broad class."""
    rows = []
    for leaf, gentypes in GENTYPES_OF_LEAF.items():
        category, broad = _CATEGORY_AS_STORED.get(leaf // 10, (leaf // 10, CLASSES[leaf // 10]))
        for gentype in gentypes:
            for classid, description, exact, cat in ((leaf, CLASSES[leaf], True, True),
                                                     (category, broad, False, True),
                                                     (leaf // 100, CLASSES[leaf // 100], False, False)):
                rows.append({"classId": classid, "gentype": gentype, "description": description,
                             "exactmatch": exact, "categorymatch": cat})
    rows.sort(key=lambda r: (r["classId"], r["gentype"]))
    return rows


def fill_tables(gentype_of_classid_model, classid_of_gentype_model) -> bool:
    """Fill the two taxonomy tables if they are empty; True if anything was written."""
    wrote = False
    for model, rows in ((gentype_of_classid_model, gentype_of_classid_rows()),
                        (classid_of_gentype_model, classid_of_gentype_rows())):
        if not model.objects.exists():
            model.objects.bulk_create(model(**row) for row in rows)
            wrote = True
    return wrote
