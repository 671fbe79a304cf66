"""``python -m sandbox`` is the same as the ``crm-sandbox`` command."""

from sandbox.cli import main

if __name__ == "__main__":
    main()
