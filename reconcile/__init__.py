"""reconcile: declarative plan/apply sync from GraphQL and HTTP sources into Notion databases."""

__version__ = "0.1.0"
