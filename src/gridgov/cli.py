"""The `gridgov` console script: Django's management commands with our settings."""

import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gridgov", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
