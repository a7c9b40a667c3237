"""Importing documents: read uploaded bytes into records (``readers``, pure), turn records
into documents, sentences and tasks (``documents``), run big imports as a background job
(``job``), and cap upload sizes on every multipart path (``uploads``)."""
