"""The GitHub scraper behind ``bash-ai data fetch github``.

- ``client``: one careful HTTP client for the REST API (auth, rate limits, retries, ETags).
- ``scraper``: the walk (search -> repo -> branch -> tree -> blob) and the checks on untrusted files.
- ``store``: the resumable, content-addressed store the walk writes into, and its export.

The source interface (``name``, ``fetch``, ``iter_documents``) is ``trainer.data.sources.github``.
"""
