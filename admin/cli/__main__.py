"""`python -m admin.cli`: the same as `amanat-admin`."""

from admin.cli import main

if __name__ == "__main__":
    main()
