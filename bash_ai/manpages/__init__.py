"""Man pages read at run time from the user's own system: roff to text, and the facts of a page
(its purpose and options) that ``bash-ai explain`` describes commands with."""
