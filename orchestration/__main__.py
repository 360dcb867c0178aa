"""`python -m orchestration <subcommand>`: the same as the `ciw` command."""

from orchestration.cli import main

raise SystemExit(main())
