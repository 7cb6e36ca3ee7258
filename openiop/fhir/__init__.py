"""FHIR R4 facade under /fhir/r4/: pure mappers (``mappers/``) plus the endpoints. Owns no
clinical models; see docs/fhir.md."""
