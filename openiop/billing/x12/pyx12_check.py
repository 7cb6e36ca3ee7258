"""Check a written 837 with pyx12 (the HIPAA X12 validator), and say what it found.

pyx12 is a test dependency, imported only when this runs. It checks the X12 syntax, the
implementation guide's loops, segments, element usage, code lists (states, places of service),
segment counts and control numbers; it does not check payer business rules.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

# Parsed implementation-guide maps, by file name. pyx12 parses its XML map (about 1 MB for an
# 837) on every call, which is 95% of its run time; the parsed map holds no per-document state
# (counts live in pyx12's walker), so we parse each map once per process. pyx12's loader is
# swapped for the caching one only while our own call runs (under a lock), so other pyx12 users
# in the process are not affected.
_MAPS: dict[tuple[str, str | None], Any] = {}
_LOCK = threading.Lock()


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 reports for ``text`` (an X12 file), as "segment N (ID): message"
    lines; [] means pyx12 accepted the file. The 999 acknowledgment is not kept."""
    import pyx12.map_if  # type: ignore[import-untyped]
    import pyx12.params  # type: ignore[import-untyped]
    import pyx12.x12n_document  # type: ignore[import-untyped]

    original: Callable[..., Any] = pyx12.map_if.load_map_file

    def load_map_file(map_file: str, param: Any, map_path: str | None = None) -> Any:
        key = (map_file, map_path)
        if key not in _MAPS:
            _MAPS[key] = original(map_file, param, map_path)
        return _MAPS[key]

    ack, report = io.StringIO(), io.StringIO()
    logger = logging.getLogger("pyx12")
    with _LOCK:
        level = logger.level
        logger.setLevel(logging.CRITICAL)  # pyx12 also logs every error; we return them instead
        pyx12.map_if.load_map_file = load_map_file
        try:
            ok = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(),
                src_file=io.StringIO(text),
                fd_997=ack,
                fd_html=None,
                fd_xmldoc=None,
                fd_json=report,
            )
        finally:
            pyx12.map_if.load_map_file = original
            logger.setLevel(level)
    errors = _collect(json.loads(report.getvalue() or '{"interchanges": []}'))
    if not ok and not errors:
        errors.append("pyx12 rejected the file without naming an error")
    return errors


def _collect(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def errs(where: str, node: dict[str, Any]) -> None:
        for e in node.get("errors", []):
            value = f" [{e['err_val']}]" if e.get("err_val") else ""
            out.append(f"{where}: {e['err_str']} (code {e['err_cde']}){value}")

    for isa in doc.get("interchanges", []):
        errs("ISA", isa)
        for gs in isa.get("groups", []):
            errs("GS", gs)
            for st in gs.get("transactions", []):
                errs("ST", st)
                for seg in st.get("segments", []):
                    where = f"segment {seg['seg_count']} ({seg['seg_id']}, line {seg['cur_line']})"
                    errs(where, seg)
                    for ele in seg.get("elements", []):
                        errs(
                            f"{where} element {ele['ele_pos']} {ele.get('name') or ''}".strip(), ele
                        )
    return out
