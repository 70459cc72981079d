"""bash-ai: a local, private, offline natural-language-to-bash tool."""

__version__ = "0.1.0"
