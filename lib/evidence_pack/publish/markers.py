"""How a notebook's outputs say what they are: the marks ``report`` puts on what it publishes,
which ``render`` keeps (and nothing else). A module of its own so that the build's driver and
workers read them without importing the charting stack that ``report`` needs."""

#: MIME type of the key-figures output that build turns into ``<report>.json``.
SUMMARY_MIME = "application/vnd.evidence-pack.summary+json"

#: Output metadata key marking what report published; build drops every other output.
PUBLISHED_KEY = "evidence_pack_published"
