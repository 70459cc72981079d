"""The ``bash-ai`` command: thin typer faces over the library. One module per subcommand."""
