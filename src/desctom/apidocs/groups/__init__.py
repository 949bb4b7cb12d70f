"""TRANSITIONAL: groups not yet moved to their views' ``api_doc`` (each module: ``TAG``, ``ENDPOINTS``)."""

from desctom.apidocs.groups import (
    accounts,
    elasticc,
    elasticc2_brokers,
)

GROUPS = (accounts, elasticc2_brokers, elasticc)


def legacy_paths() -> dict[str, dict]:
    paths: dict[str, dict] = {}
    for group in GROUPS:
        for endpoint in group.ENDPOINTS:
            base = endpoint.url_name.replace(":", "_")
            item = paths.setdefault(endpoint.path, {})
            for op in endpoint.operations:
                item[op.method] = op.as_openapi(group.TAG, f"{base}_{op.method}", endpoint.path_params)
    return paths
