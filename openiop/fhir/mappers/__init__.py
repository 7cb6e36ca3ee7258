"""Pure mappers: OpenIOP rows -> FHIR R4 resources as plain JSON dicts.

Each mapper takes rows that are already loaded (with ``select_related`` / ``prefetch_related``
done by the caller, ``openiop.fhir.selectors``) and a ``common.MapContext``;
it runs no query and writes nothing. Output validates with ``fhir.resources.R4B`` and with
``fhirclient``'s exact-R4 models (``openiop.fhir.validate``).
"""
