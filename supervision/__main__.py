"""`python -m supervision`: the same command line as `supervision`."""

from supervision.cli import main

if __name__ == "__main__":
    main()
