"""The ``openiop`` command: Django's management commands under one name.

``openiop migrate``, ``openiop demo``, ``openiop runserver``, ``openiop token create --user U``,
``openiop audit verify`` ... all go through Django's command machinery, so ``openiop help`` lists
every command.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["openiop", *argv])
    args[0] = "openiop"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
