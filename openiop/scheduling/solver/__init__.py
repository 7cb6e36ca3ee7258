"""The weekly scheduling solver: pure Python + OR-Tools CP-SAT, no Django imports.

Contract: ``docs/scheduling/instance-format.md`` (format v1) and the JSON Schemas in
``schemas/`` (copies of ``docs/scheduling/*.schema.json``). Design notes and measurements:
``docs/scheduling/solver.md``.

- ``solve(instance, *, time_limit=30.0, repair=False, workers=2, progress=None, pins=None)
  -> dict``: a solution dict in format v1 (``solve.py``); ``pins`` (patient id -> block ids) are
  hard placements from the product's board. Raises ``InstanceError(path, message)`` for a bad
  instance. Rooms may carry ``unavailable_blocks`` (an OpenIOP extension: booked elsewhere).
- ``parse_instance(data) -> Instance``: schema + semantic checks, frozen dataclasses
  (``instance.py``).
- ``check_solution(instance, solution) -> list[str]``: an independent validator of every hard rule
  and of the solution's bookkeeping (``validate.py``).

Modules: ``instance`` (reading), ``model`` (the two-stage count-based CP-SAT model), ``split``
(attendees -> groups), ``reasons`` (why a patient misses the minimum), ``validate``, ``solve``.
``greedy`` (a baseline for the benchmark) is optional: when present it warm-starts the model.
Run it as a background job (``openiop schedule solve``), never inside a web request.
"""

from openiop.scheduling.solver.instance import Instance, InstanceError, parse_instance
from openiop.scheduling.solver.solve import solve
from openiop.scheduling.solver.validate import check_solution

__all__ = ["Instance", "InstanceError", "check_solution", "parse_instance", "solve"]
