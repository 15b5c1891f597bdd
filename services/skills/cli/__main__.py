"""`python -m services.skills.cli` is `skillsctl`."""

from services.skills.cli.commands import main

if __name__ == "__main__":
    main()
