"""The REST interface, mounted under /api/ (``urls``): every endpoint's view, serializer
and route, by concept (core ``views``/``serializers``; ``agreement_*``, ``export_*``,
``gold_*``, ``quality_*``), and the request plumbing (authentication, strict JSON
parsers, the error-envelope and database-fault middleware, offset units, pagination,
filters, the OpenAPI schema). Views parse, call one plain function of a concern package,
and serialize; the work lives below (``labeling.queue``, ``labeling.review``, ...)."""
