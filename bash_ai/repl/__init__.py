"""The interactive REPL (prompt_toolkit): imported only by ``bash-ai repl``, never at start-up."""
