"""HTTP kit: typed routes with OpenAPI, middlewares."""
