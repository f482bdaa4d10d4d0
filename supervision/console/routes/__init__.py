"""Console pages, one module per page type; each route declares its roles."""
