"""The read-only GraphQL API (Strawberry), served at /api/v1/graphql.

Nothing here is imported by the app at start-up: the route imports `execution` on the first
GraphQL request, so Strawberry and graphql-core stay out of the API Lambda's cold start.
"""
