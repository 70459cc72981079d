"""The terminal layer shared by the faces that talk to a person (the CLI and the REPL): styled
stderr (``ui``), progress and answer rendering (``render``), run-with-confirmation (``confirm``).
It sits below both faces, so neither imports the other for it."""
