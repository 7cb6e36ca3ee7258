"""Standard questionnaires as plain data plus scoring: no Django imports (DESIGN.md section 3).

``registry.get("phq9").score([1, 2, ...])`` -> :class:`base.Score`. One module per instrument.
"""

from openiop.questionnaires.instruments.base import (
    ALERT_FLAGS,
    AnswerError,
    Instrument,
    Score,
    UnknownInstrument,
)

__all__ = ["ALERT_FLAGS", "AnswerError", "Instrument", "Score", "UnknownInstrument"]
